/// A 64-bit FNV-1a digest, fed in pieces: the mock hashes the bytes it writes and the
/// client the bytes it reads, so that one exchange's two ends can be compared without
/// keeping either body. Byte at a time, so where a body was split never changes it.
/// Not a cryptographic hash: it tells an honest relay's answer from another one, which
/// is all the reconciliation asks of it.
package struct Digest64: Sendable, Equatable {
    private static let offset: UInt64 = 0xcbf2_9ce4_8422_2325
    private static let prime: UInt64 = 0x100_0000_01b3
    /// Between fields of a canonical form: a byte UTF-8 text never holds.
    package static let separator: UInt8 = 0xFF

    package private(set) var value: UInt64 = Digest64.offset

    package init() {}

    package mutating func add(_ bytes: UnsafeRawBufferPointer) {
        var hash = value
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* Self.prime }
        value = hash
    }

    package mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        var hash = value
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* Self.prime }
        value = hash
    }

    package mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    package mutating func add(_ byte: UInt8) { value = (value ^ UInt64(byte)) &* Self.prime }

    /// Adds a field and the separator after it.
    package mutating func field(_ text: String) {
        add(text)
        add(Self.separator)
    }

    /// The digest of `text` alone.
    package static func of(_ text: String) -> UInt64 {
        var digest = Digest64()
        digest.add(text)
        return digest.value
    }
}
