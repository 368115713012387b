/// A 64-bit digest, fed in pieces: the mock hashes the bytes it writes and the client the
/// bytes it reads, so that one exchange's two ends can be compared without keeping either
/// body. Eight bytes at a time (MurmurHash3's multiply-rotate mix and its final avalanche),
/// the bytes that do not fill a word kept for the next piece, so where a body was split
/// never changes its digest. Not a cryptographic hash: it tells an honest relay's answer
/// from another one, which is all the reconciliation asks of it.
package struct Digest64: Sendable, Equatable {
    /// Between fields of a canonical form: a byte UTF-8 text never holds.
    package static let separator: UInt8 = 0xFF

    private var hash: UInt64 = 0x9E37_79B9_7F4A_7C15
    /// Bytes fed since the last whole word, little-endian, and how many.
    private var tail: UInt64 = 0
    private var tailCount = 0
    private var length: UInt64 = 0

    private static let k1: UInt64 = 0x87C3_7B91_1142_53D5
    private static let k2: UInt64 = 0x4CF5_AD43_2745_937F

    package init() {}

    @inline(__always)
    private static func mix(_ hash: UInt64, _ word: UInt64) -> UInt64 {
        var k = word &* k1
        k = (k << 31) | (k >> 33)
        var h = hash ^ (k &* k2)
        h = (h << 27) | (h >> 37)
        return h &* 5 &+ 0x52DC_E729
    }

    @inline(__always)
    private mutating func push(_ byte: UInt8) {
        tail |= UInt64(byte) << (8 * UInt64(tailCount))
        tailCount += 1
        if tailCount == 8 {
            hash = Self.mix(hash, tail)
            tail = 0
            tailCount = 0
        }
    }

    package mutating func add(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        length &+= UInt64(count)
        var index = 0
        while tailCount != 0, index < count {
            push(base.load(fromByteOffset: index, as: UInt8.self))
            index += 1
        }
        var h = hash
        while count - index >= 8 {
            h = Self.mix(h, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self)))
            index += 8
        }
        hash = h
        while index < count {
            push(base.load(fromByteOffset: index, as: UInt8.self))
            index += 1
        }
    }

    package mutating func add<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { add(UnsafeRawBufferPointer($0)) }
        if done == nil { add(Array(bytes)) }
    }

    package mutating func add(_ text: String) {
        var text = text
        text.withUTF8 { add(UnsafeRawBufferPointer($0)) }
    }

    package mutating func add(_ byte: UInt8) {
        length &+= 1
        push(byte)
    }

    /// Adds a field and the separator after it.
    package mutating func field(_ text: String) {
        add(text)
        add(Self.separator)
    }

    /// The digest of everything added so far.
    package var value: UInt64 {
        var h = hash
        if tailCount > 0 { h = Self.mix(h, tail) }
        h ^= length
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        h = h &* 0xC4CE_B9FE_1A85_EC53
        h ^= h >> 33
        return h
    }

    /// The digest of `text` alone.
    package static func of(_ text: String) -> UInt64 {
        var digest = Digest64()
        digest.add(text)
        return digest.value
    }

    package static func == (lhs: Digest64, rhs: Digest64) -> Bool { lhs.value == rhs.value }
}
