/// Open addressing from a key's hash to an index of the caller's records: a session to the place
/// of its live lease, a number to its slot.
///
/// Linear probing at most half full; a bucket packs 32 bits of the hash (which also give the
/// home bucket) and the index + 1, so a probe reads one small array and the caller checks the
/// one record whose hash bits match. Deletion shifts the run back, leaving no tombstones. One
/// cache line per lookup, where a `Dictionary` reads its keys and its values apart.
struct IndexTable {
    private var buckets = [UInt64](repeating: 0, count: 16)
    private(set) var count = 0

    private var mask: Int { buckets.count - 1 }

    static func bucket(hash: UInt64, index: Int) -> UInt64 { (hash << 32) | UInt64(index + 1) }
    private static func home(_ bucket: UInt64, _ mask: Int) -> Int { Int(truncatingIfNeeded: bucket >> 32) & mask }
    /// The bucket where a key with this hash is looked for first.
    private func home(hash: UInt64) -> Int { Int(truncatingIfNeeded: hash & 0xFFFF_FFFF) & mask }

    /// The index whose hash bits match and for which `matches` says yes.
    func find(hash: UInt64, matches: (Int) -> Bool) -> Int? {
        let fingerprint = hash & 0xFFFF_FFFF
        var i = home(hash: hash)
        while true {
            let b = buckets[i]
            if b == 0 { return nil }
            if b >> 32 == fingerprint, matches(Int(b & 0xFFFF_FFFF) - 1) { return Int(b & 0xFFFF_FFFF) - 1 }
            i = (i + 1) & mask
        }
    }

    /// The first index whose hash bits match, unchecked: a guess to prefetch by.
    func candidate(hash: UInt64) -> Int? { find(hash: hash) { _ in true } }

    /// Loads the home bucket of `hash` ahead of a `find` (see `Array.prefetch`).
    func prefetch(hash: UInt64) { buckets.prefetch(home(hash: hash)) }

    mutating func insert(hash: UInt64, index: Int) {
        if 2 * (count + 1) > buckets.count { grow() }
        put(Self.bucket(hash: hash, index: index))
        count += 1
    }

    mutating func remove(hash: UInt64, index: Int) {
        let target = Self.bucket(hash: hash, index: index)
        var hole = home(hash: hash)
        while buckets[hole] != target {
            precondition(buckets[hole] != 0, "IndexTable: removing an index that is not in the table")
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
