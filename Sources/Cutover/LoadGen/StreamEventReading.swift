/// What one SSE event of a chat completion stream says, read from its bytes without a JSON
/// parser (this runs for every event of every stream): how many words its content delta
/// holds, and `usage.completion_tokens` when it is the usage chunk. Words stand for tokens:
/// exact for the mock, whose tokens are words, and an estimate for other relays.
struct StreamEventReading {
    private(set) var words = 0
    private(set) var completionTokens: Int?

    init(_ event: ArraySlice<UInt8>) {
        if let start = Self.find(Self.contentKey, in: event) {
            var index = start
            var inWord = false
            while index < event.endIndex {
                let byte = event[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    // An escape: \n, \t and \u0020 separate words; others are part of one.
                    let next = index + 1 < event.endIndex ? event[index + 1] : 0
                    let separates = next == UInt8(ascii: "n") || next == UInt8(ascii: "t") || next == UInt8(ascii: "r")
                    if separates { inWord = false } else if !inWord { inWord = true; words += 1 }
                    index += next == UInt8(ascii: "u") ? 6 : 2
                    continue
                }
                let space = byte == UInt8(ascii: " ")
                if !space, !inWord { words += 1 }
                inWord = !space
                index += 1
            }
        }
        if let start = Self.find(Self.usageKey, in: event) {
            var value = 0
            var index = start
            while index < event.endIndex, event[index] == UInt8(ascii: " ") { index += 1 }
            let first = index
            while index < event.endIndex, event[index] &- 0x30 < 10 {
                value = value * 10 + Int(event[index] - 0x30)
                index += 1
            }
            if index > first { completionTokens = value }
        }
    }

    private static let contentKey = Array(#""content":""#.utf8)
    private static let usageKey = Array(#""completion_tokens":"#.utf8)

    /// The index just after the first occurrence of `needle` in `haystack`.
    private static func find(_ needle: [UInt8], in haystack: ArraySlice<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        var index = haystack.startIndex
        let last = haystack.endIndex - needle.count
        while index <= last {
            if haystack[index] == first, haystack[index..<(index + needle.count)].elementsEqual(needle) { return index + needle.count }
            index += 1
        }
        return nil
    }
}
