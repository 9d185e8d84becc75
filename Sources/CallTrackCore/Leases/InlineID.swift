/// A session or visitor id as the allocator keeps it: its hash, once, and its bytes inline when short.
///
/// Snippet ids are ASCII and short (`s_` or `v_` + 16 characters); such an id is kept as three
/// words in the lease record, with no string to follow, retain or release, and a session id is
/// compared as those words. Any other id is kept as a `String` beside the record and compared as
/// one (canonical equivalence, like a dictionary key). The hash is the process-seeded `String`
/// hash, so crafted ids cannot flood one bucket.
struct InlineID {
    static let inlineCapacity = 24

    var hash: UInt64
    var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    /// The UTF-8 length when the id is ASCII and fits inline, else `InlineID.notInline`.
    var count: UInt8 = InlineID.notInline

    static let notInline: UInt8 = .max

    var isInline: Bool { count != Self.notInline }

    init(_ id: String) {
        hash = UInt64(UInt(bitPattern: id.hashValue))
        _ = id.utf8.withContiguousStorageIfAvailable { bytes in
            guard bytes.count <= Self.inlineCapacity else { return }
            var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
            let high = (words.0 | words.1 | words.2) & 0x8080_8080_8080_8080
            guard high == 0 else { return }  // non-ASCII: canonical equivalence needs String ==
            self.words = words
            self.count = UInt8(bytes.count)
        }
    }

    func sameInline(_ other: (UInt64, UInt64, UInt64), count otherCount: UInt8) -> Bool {
        count == otherCount && words.0 == other.0 && words.1 == other.1 && words.2 == other.2
    }

    /// The id back from inline words (only when `isInline`).
    static func string(_ words: (UInt64, UInt64, UInt64), count: UInt8) -> String {
        var words = words
        return withUnsafeBytes(of: &words) { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw.prefix(Int(count))), as: UTF8.self)
        }
    }
}
