/// A session id as the allocator looks it up: its hash, once, and its bytes inline when short.
///
/// Snippet ids are ASCII and short (`s_` + 16 characters); such an id is compared as three
/// words against the lease record, with no pointer to a string to follow. Any other id is
/// compared as a `String` (canonical equivalence, like a dictionary key). The hash is the
/// process-seeded `String` hash, so crafted ids cannot flood one bucket.
struct SessionKey {
    static let inlineCapacity = 24

    var hash: UInt64
    var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    /// The UTF-8 length when the id is ASCII and fits inline, else `SessionKey.notInline`.
    var count: UInt8 = SessionKey.notInline

    static let notInline: UInt8 = .max

    var isInline: Bool { count != Self.notInline }

    init(_ session: SessionID) {
        hash = UInt64(UInt(bitPattern: session.hashValue))
        _ = session.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count <= Self.inlineCapacity else { return }
            var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
            var high: UInt8 = 0
            withUnsafeMutableBytes(of: &words) { raw in
                for (i, byte) in bytes.enumerated() {
                    raw[i] = byte
                    high |= byte
                }
            }
            guard high < 0x80 else { return }  // non-ASCII: canonical equivalence needs String ==
            self.words = words
            self.count = UInt8(bytes.count)
        }
    }

    func sameInline(_ other: (UInt64, UInt64, UInt64), count otherCount: UInt8) -> Bool {
        count == otherCount && words.0 == other.0 && words.1 == other.1 && words.2 == other.2
    }

    /// The id back from inline words (only when `isInline`).
    static func string(_ words: (UInt64, UInt64, UInt64), count: UInt8) -> SessionID {
        var words = words
        return withUnsafeBytes(of: &words) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw.prefix(Int(count))), as: UTF8.self)
        }
    }
}

/// Open addressing from a session's hash to the place of its live lease.
///
/// Linear probing at most half full; a bucket packs 32 bits of the hash (which also give the
/// home bucket) and the place + 1, so a probe reads one small array and the caller checks the
/// one record whose hash bits match. Deletion shifts the run back, leaving no tombstones.
struct SessionTable {
    private var buckets = [UInt64](repeating: 0, count: 16)
    private(set) var count = 0

    private var mask: Int { buckets.count - 1 }

    static func bucket(hash: UInt64, place: Int) -> UInt64 { (hash << 32) | UInt64(place + 1) }
    private static func home(_ bucket: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: bucket >> 32) & mask }

    /// The place whose hash bits match and for which `matches` says yes.
    func find(hash: UInt64, matches: (Int) -> Bool) -> Int? {
        let fingerprint = hash & 0xFFFF_FFFF
        var i = Int(truncatingIfNeeded: fingerprint) & mask
        while true {
            let b = buckets[i]
            if b == 0 { return nil }
            if b >> 32 == fingerprint, matches(Int(b & 0xFFFF_FFFF) - 1) { return Int(b & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    mutating func insert(hash: UInt64, place: Int) {
        if 2 * (count + 1) > buckets.count { grow() }
        put(Self.bucket(hash: hash, place: place))
        count += 1
    }

    mutating func remove(hash: UInt64, place: Int) {
        let target = Self.bucket(hash: hash, place: place)
        var hole = Int(truncatingIfNeeded: hash & 0xFFFF_FFFF) & mask
        while buckets[hole] != target {
            precondition(buckets[hole] != 0, "SessionTable: removing a place that is not in the table")
            hole = (hole + 1) & mask
        }
        // Backward shift: an entry after the hole moves into it unless its home lies in (hole, j].
        var j = hole
        while true {
            j = (j + 1) & mask
            let b = buckets[j]
            if b == 0 { break }
            let home = Self.home(b, mask)
            let stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j)
            if !stays {
                buckets[hole] = b
                hole = j
            }
        }
        buckets[hole] = 0
        count -= 1
    }

    private mutating func put(_ bucket: UInt64) {
        var i = Self.home(bucket, mask)
        while buckets[i] != 0 { i = (i + 1) & mask }
        buckets[i] = bucket
    }

    private mutating func grow() {
        let old = buckets
        buckets = [UInt64](repeating: 0, count: old.count * 2)
        for b in old where b != 0 { put(b) }
    }
}
