extension [UInt32] {
    /// In an ascending array of run-clock times, the index of the first one at or after
    /// `time` (the count when none is): a window `[a, b)` is `insertionIndex(a)..<insertionIndex(b)`.
    func insertionIndex(of time: UInt32) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if self[mid] < time { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
