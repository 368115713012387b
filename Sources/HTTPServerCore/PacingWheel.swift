import NIOCore

/// Wakes the paced streams of one event loop at their frames' due times, to the millisecond,
/// with one NIO timer for the whole loop: a timing wheel of 1 ms slots. (A NIO timer per
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
        let dueMs: UInt64
    }

    private let loop: any EventLoop
    /// Slot `ms % slotCount` holds the entries due in that millisecond.
    private var slots: [[Entry]]
    private static let slotCount: UInt64 = 2_048
    /// Entries due beyond the wheel's horizon, moved in as the wheel turns.
    private var far: [Entry] = []
    /// Every millisecond before this one has been woken.
    private var cursorMs: UInt64
    private var pending = 0
    private var timer: Scheduled<Void>?
    private var timerMs: UInt64 = .max
    private var tickets: UInt64 = 0

    init(loop: any EventLoop) {
        self.loop = loop
        self.slots = Array(repeating: [], count: Int(Self.slotCount))
        self.cursorMs = Self.nowMs()
    }

    private static func nowMs() -> UInt64 { NIODeadline.now().uptimeNanoseconds / 1_000_000 }

    /// A new ticket: entries made with older tickets of the same sleeper are ignored.
    func ticket() -> UInt64 {
        tickets += 1
        return tickets
    }

    /// Wakes `sleeper` at `deadline` (rounded up to the millisecond), unless it asks again
    /// with a newer ticket first.
    func wake(_ sleeper: any Sleeper, ticket: UInt64, at deadline: NIODeadline) {
        let dueMs = max((deadline.uptimeNanoseconds + 999_999) / 1_000_000, cursorMs)
        let entry = Entry(sleeper: sleeper, ticket: ticket, dueMs: dueMs)
        if dueMs - cursorMs < Self.slotCount {
            slots[Int(dueMs % Self.slotCount)].append(entry)
        } else {
            far.append(entry)
        }
        pending += 1
        arm(dueMs)
    }

    /// Keeps the loop's one timer at the earliest slot with entries.
    private func arm(_ dueMs: UInt64) {
        guard dueMs < timerMs else { return }
        timer?.cancel()
        timerMs = dueMs
        timer = loop.assumeIsolated().scheduleTask(deadline: .uptimeNanoseconds(dueMs * 1_000_000)) { self.turn() }
    }

    /// Wakes every entry due by now, then arms the timer for the next one. The cursor moves
    /// past a slot before its entries wake, so what they ask for lands in a later slot.
    private func turn() {
        timer = nil
        timerMs = .max
        let now = Self.nowMs()
        while cursorMs <= now {
            let index = Int(cursorMs % Self.slotCount)
            cursorMs += 1
            if cursorMs % 1_024 == 0 { pullFar() }
            guard !slots[index].isEmpty else { continue }
            let due = slots[index]
            slots[index].removeAll(keepingCapacity: true)
            pending -= due.count
            for entry in due { entry.sleeper.wake(ticket: entry.ticket) }
        }
        pullFar()
        guard pending > 0 else { return }
        var probe = cursorMs
        while probe < cursorMs + Self.slotCount {
            if !slots[Int(probe % Self.slotCount)].isEmpty { return arm(probe) }
            probe += 1
        }
        if let soonest = far.map(\.dueMs).min() { arm(soonest - Self.slotCount + 1) }
    }

    /// Moves far entries that came within the horizon into their slots.
    private func pullFar() {
        guard !far.isEmpty else { return }
        var still: [Entry] = []
        for entry in far {
            if entry.dueMs - cursorMs < Self.slotCount {
                slots[Int(entry.dueMs % Self.slotCount)].append(entry)
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
