/// A set that can answer "certainly not here" in constant memory: `mightContain` is false only for
/// strings never inserted, and true for a few others (false positives, more as it fills).
///
/// The store keeps the visitors that ever held a lease in one, so a first visit — most visits — is
/// known to have no previous number without a database read.
public struct BloomFilter: Sendable {
    private var words: [UInt64]
    private let mask: UInt64
    private let hashes: Int
    public private(set) var count = 0

    /// `bits` is rounded up to a power of two; 2^24 bits (2 MiB) with 3 hashes keep false positives
    /// under 0.5% for a million visitors.
    public init(bits: Int = 1 << 24, hashes: Int = 3) {
        var size = 64
        while size < bits { size <<= 1 }
        words = [UInt64](repeating: 0, count: size / 64)
        mask = UInt64(size - 1)
        self.hashes = hashes
    }

    public mutating func insert(_ element: String) {
        var (position, step) = Self.probe(element)
        for _ in 0..<hashes {
            let bit = position & mask
            words[Int(bit >> 6)] |= 1 << (bit & 63)
            position &+= step
        }
        count += 1
    }

    public func mightContain(_ element: String) -> Bool {
        var (position, step) = Self.probe(element)
        for _ in 0..<hashes {
            let bit = position & mask
            if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
            position &+= step
        }
        return true
    }

    /// Double hashing: one 64-bit hash gives the start and an odd step (Kirsch–Mitzenmacher).
    private static func probe(_ element: String) -> (UInt64, UInt64) {
        let hash = UInt64(bitPattern: Int64(element.hashValue))
        let step = ((hash >> 29) | (hash << 35)) &* 0x9E37_79B9_7F4A_7C15 | 1
        return (hash, step)
    }
}
