import Foundation
import Synchronization

/// The runs' scratch folders (state file, router logs), removed when a run ends, and by
/// `removeAll()` when a signal ends the harness before the run could.
package enum ScratchFolders {
    private static let live = Mutex<Set<URL>>([])

    /// A fresh folder for one run, registered until `remove(_:)`.
    static func make(for suite: String) -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cutover-\(suite)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        live.withLock { _ = $0.insert(folder) }
        return folder
    }

    static func remove(_ folder: URL) {
        try? FileManager.default.removeItem(at: folder)
        live.withLock { _ = $0.remove(folder) }
    }

    /// Removes every registered folder (signal handlers call this before exiting).
    package static func removeAll() {
        for folder in live.withLock({ $0 }) { try? FileManager.default.removeItem(at: folder) }
    }
}
