import Foundation

/// The process's file descriptor table, grown before a run instead of during it. Linux
/// doubles the table when a new descriptor does not fit (at 256, 512, 1,024, …), and in a
/// process with several threads each doubling waits for an RCU grace period: `socket()`
/// took 10–15 ms there, and every slot due meanwhile left late. The table never shrinks, so
/// one descriptor placed high once keeps it large. Servers (the mock, the router) reserve
/// at start for the connections they will accept, the load generator for its transfers.
package enum FileDescriptorTable {
    /// Makes room for `count` descriptors (at most the soft limit), once.
    package static func reserve(_ count: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let highest = Int32(clamping: min(count, Int(limit.rlim_cur)) - 1)
        guard highest > 2, fcntl(highest, F_GETFD) == -1 else { return }
        if dup2(STDERR_FILENO, highest) == highest { close(highest) }
    }
}
