import NIOCore

/// Wakes the paced streams of one event loop at their frames' due times, within a quarter of
/// a millisecond, with one NIO timer for the whole loop: a timing wheel of 250 µs slots. (A NIO timer per
/// frame costs a heap insert that copies and retains its tasks: with thousands of streams
/// open, the mock spent a sixth of its CPU there.) Only touched on its own loop.
final class PacingWheel {
    /// Something paced: woken at or after the time it asked for.
    protocol Sleeper: AnyObject {
        /// Called for each request that is due; `ticket` tells the latest from stale ones.
        func wake(ticket: UInt64)
    }

    private struct Entry {
        let sleeper: any Sleeper
        /// The sleeper's ticket when it asked; a newer request makes this entry stale.
        let ticket: UInt64
        let dueTick: UInt64
    }

    private let loop: any EventLoop
    /// Slot `tick % slotCount` holds the entries due in that tick (250 µs).
    private var slots: [[Entry]]
    private static let slotCount: UInt64 = 8_192
    private static let tickNanos: UInt64 = 250_000
    /// Entries due beyond the wheel's horizon, moved in as the wheel turns.
    private var far: [Entry] = []
    /// Every tick before this one has been woken.
    private var cursorTick: UInt64
    private var pending = 0
    private var timer: Scheduled<Void>?
    private var timerTick: UInt64 = .max
    private var tickets: UInt64 = 0

    init(loop: any EventLoop) {
        self.loop = loop
        self.slots = Array(repeating: [], count: Int(Self.slotCount))
        self.cursorTick = Self.nowTick()
    }

    private static func nowTick() -> UInt64 { NIODeadline.now().uptimeNanoseconds / tickNanos }

    /// A new ticket: entries made with older tickets of the same sleeper are ignored.
    func ticket() -> UInt64 {
        tickets += 1
        return tickets
    }

    /// Wakes `sleeper` at `deadline` (rounded up to the tick), unless it asks again with a
    /// newer ticket first.
    func wake(_ sleeper: any Sleeper, ticket: UInt64, at deadline: NIODeadline) {
        let dueTick = max((deadline.uptimeNanoseconds + Self.tickNanos - 1) / Self.tickNanos, cursorTick)
        let entry = Entry(sleeper: sleeper, ticket: ticket, dueTick: dueTick)
        if dueTick - cursorTick < Self.slotCount {
            slots[Int(dueTick % Self.slotCount)].append(entry)
        } else {
            far.append(entry)
        }
        pending += 1
        arm(dueTick)
    }

    /// Keeps the loop's one timer at the earliest slot with entries.
    private func arm(_ dueTick: UInt64) {
        guard dueTick < timerTick else { return }
        timer?.cancel()
        timerTick = dueTick
        timer = loop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(dueTick * Self.tickNanos)) { self.turn() }
    }

    /// Wakes every entry due by now, then arms the timer for the next one. The cursor moves
    /// past a slot before its entries wake, so what they ask for lands in a later slot.
    private func turn() {
        timer = nil
        timerTick = .max
        let now = Self.nowTick()
        while cursorTick <= now {
            let index = Int(cursorTick % Self.slotCount)
            cursorTick += 1
            if cursorTick % 4_096 == 0 { pullFar() }
            guard !slots[index].isEmpty else { continue }
            let due = slots[index]
            slots[index].removeAll(keepingCapacity: true)
            pending -= due.count
            for entry in due { entry.sleeper.wake(ticket: entry.ticket) }
        }
        pullFar()
        guard pending > 0 else { return }
        var probe = cursorTick
        while probe < cursorTick + Self.slotCount {
            if !slots[Int(probe % Self.slotCount)].isEmpty { return arm(probe) }
            probe += 1
        }
        if let soonest = far.map(\.dueTick).min() { arm(soonest - Self.slotCount + 1) }
    }

    /// Moves far entries that came within the horizon into their slots.
    private func pullFar() {
        guard !far.isEmpty else { return }
        var still: [Entry] = []
        for entry in far {
            if entry.dueTick - cursorTick < Self.slotCount {
                slots[Int(entry.dueTick % Self.slotCount)].append(entry)
            } else {
                still.append(entry)
            }
        }
        far = still
    }
}

/// One `PacingWheel` per event loop of a group, made on first use on that loop.
final class PacingWheels: Sendable {
    private let boxes: [ObjectIdentifier: NIOLoopBoundBox<PacingWheel?>]

    init(group: any EventLoopGroup) {
        var boxes: [ObjectIdentifier: NIOLoopBoundBox<PacingWheel?>] = [:]
        for loop in group.makeIterator() {
            boxes[ObjectIdentifier(loop)] = NIOLoopBoundBox.makeEmptyBox(valueType: PacingWheel.self, eventLoop: loop)
        }
        self.boxes = boxes
    }

    /// The wheel of `loop`; called on that loop. A loop outside the group gets its own.
    func wheel(on loop: any EventLoop) -> PacingWheel {
        guard let box = boxes[ObjectIdentifier(loop)] else { return PacingWheel(loop: loop) }
        if let wheel = box.value { return wheel }
        let wheel = PacingWheel(loop: loop)
        box.value = wheel
        return wheel
    }
}
