import Foundation

/// The process's file descriptor table: its limit raised and the table grown before a run
/// instead of during it.
///
/// The limit: a soft limit of 1,024 or 4,096 (a login shell's, a CI runner's) meets
/// `EMFILE` long before a run of thousands of open streams does, and a socket the harness
/// cannot open must never read as the router's drop. So the soft limit is raised to the
/// hard limit, once, before anything reserves.
///
/// The table: Linux doubles it when a new descriptor does not fit (at 256, 512, 1,024, …),
/// and in a process with several threads each doubling waits for an RCU grace period:
/// `socket()` took 10–15 ms there, and every slot due meanwhile left late. The table never
/// shrinks, so one descriptor placed high once keeps it large. Servers (the mock, the
/// router) reserve at start for the connections they will accept, the load generator for
/// its transfers.
package enum FileDescriptorTable {
    /// The soft limit after `raiseLimit()`.
    package static let limit: Int = raiseLimit()

    /// No more than this is asked for: far above any run's need, and below an unlimited
    /// hard limit that some tools would loop up to.
    static let ceiling: rlim_t = 1 << 20

    /// Raises the soft limit to the hard limit (at most `ceiling`); returns the soft limit
    /// then in force.
    @discardableResult
    package static func raiseLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        let target = min(limit.rlim_max, ceiling)
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = target
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// Makes room for `count` descriptors (at most the soft limit), once.
    package static func reserve(_ count: Int) {
        let highest = Int32(clamping: min(count, limit) - 1)
        guard highest > 2, fcntl(highest, F_GETFD) == -1 else { return }
        if dup2(STDERR_FILENO, highest) == highest { close(highest) }
    }
}
