/// Visitor and session ids as the snippet makes them: `<prefix>_`, the creation time in milliseconds as 9
/// base-36 digits, then 12 random base-36 digits (`s_0mx5n00lxk3f0a9x7be5d`).
///
/// Time first, so a new id sorts after the ids made before it: the store's indexes on session and visitor
/// ids then take each new row at their end, where the pages are already in memory, instead of at a random
/// leaf (one page read, written to the WAL and later checkpointed, per index and per visit). Fixed width,
/// and digits sort before letters in ASCII, so byte order is time order until the year 5188. The random
/// part (62 bits) keeps ids of the same millisecond apart. `ct.js` makes ids the same way; the server makes
/// one only when a request brings none it accepts.
public enum TimeOrderedID {
    public static let timeDigits = 9
    public static let randomDigits = 12
    static let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)

    public static func make(prefix: String, at time: Timestamp, using generator: inout some RandomNumberGenerator) -> String {
        var bytes = Array(prefix.utf8)
        bytes.append(UInt8(ascii: "_"))
        // Before 1970 (a clock gone wrong) sorts as 1970; the id stays well formed.
        var milliseconds = UInt64(max(time.millisecondsSinceEpoch, 0))
        var digits = [UInt8](repeating: alphabet[0], count: timeDigits)
        for position in digits.indices.reversed() {
            digits[position] = alphabet[Int(milliseconds % 36)]
            milliseconds /= 36
        }
        bytes += digits
        for _ in 0..<randomDigits { bytes.append(alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The creation time an id of this shape carries, to the millisecond; nil for any other id.
    public static func time(of id: String, prefix: String) -> Timestamp? {
        let bytes = Array(id.utf8)
        let start = prefix.utf8.count + 1
        guard bytes.count == start + timeDigits + randomDigits, bytes.starts(with: Array(prefix.utf8) + [UInt8(ascii: "_")]) else {
            return nil
        }
        let digits = bytes[start...].map { alphabet.firstIndex(of: $0) }
        guard !digits.contains(nil) else { return nil }
        let milliseconds = digits.prefix(timeDigits).reduce(Int64(0)) { $0 * 36 + Int64($1!) }
        return Timestamp(microsecondsSinceEpoch: milliseconds * 1_000)
    }
}
