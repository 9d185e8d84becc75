#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Reads JSON values straight from UTF-8 bytes, for the records the outbox holds: objects of
/// strings, numbers, booleans, `null` and small nested objects, as `JSONEncoder` writes them.
///
/// Foundation's `JSONDecoder` cost ~25 µs a lead change (a third of the client's time while the
/// outbox drained), most of it building a value tree and decoding escaped strings through a slow
/// path; this reads each value in place. It is strict: anything it does not expect (a lone
/// surrogate, a raw control character, a number where a string should be, an unknown key) throws
/// `Unexpected`, and its caller then asks `JSONDecoder`, so this reader never decides what an odd
/// payload means.
struct JSONByteReader: ~Copyable {
    struct Unexpected: Error {}

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Nothing but white space is left.
    mutating func atEnd() -> Bool {
        skipSpace()
        return index == bytes.count
    }

    mutating func beginObject() throws(Unexpected) {
        try expect(UInt8(ascii: "{"))
    }

    /// The index in `keys` of the next key of the current object (read up to its `:`), or nil at
    /// the object's end. `first` tells whether a comma must come before it; `expected` is tried
    /// first (fields usually come in the order they were written).
    mutating func nextKey(in keys: [[UInt8]], expected: Int, first: Bool) throws(Unexpected) -> Int? {
        skipSpace()
        guard index < bytes.count else { throw Unexpected() }
        if bytes[index] == UInt8(ascii: "}") {
            index += 1
            return nil
        }
        if !first { try expect(UInt8(ascii: ",")) }
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            // Keys are plain ASCII names; an escaped one is left to JSONDecoder.
            guard bytes[index] != UInt8(ascii: "\\") else { throw Unexpected() }
            index += 1
        }
        guard index < bytes.count else { throw Unexpected() }
        let key = UnsafeBufferPointer(rebasing: bytes[start..<index])
        index += 1
        try expect(UInt8(ascii: ":"))
        if expected < keys.count, Self.same(key, keys[expected]) { return expected }
        guard let found = keys.firstIndex(where: { Self.same(key, $0) }) else { throw Unexpected() }
        return found
    }

    /// `null` (consumed) or not (nothing consumed).
    mutating func null() -> Bool {
        skipSpace()
        guard literal("null") else { return false }
        return true
    }

    mutating func bool() throws(Unexpected) -> Bool {
        skipSpace()
        if literal("true") { return true }
        if literal("false") { return false }
        throw Unexpected()
    }

    mutating func int64() throws(Unexpected) -> Int64 {
        skipSpace()
        let start = index
        try skipNumber()
        let negative = bytes[start] == UInt8(ascii: "-")
        var value: Int64 = 0
        for byte in UnsafeBufferPointer(rebasing: bytes[(negative ? start + 1 : start)..<index]) {
            // A fraction or exponent is not an integer as JSONEncoder writes one.
            guard byte &- UInt8(ascii: "0") < 10 else { throw Unexpected() }
            // Accumulated negatively, so that Int64.min fits.
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int64(byte &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { throw Unexpected() }
            value = next
        }
        if negative { return value }
        guard value != .min else { throw Unexpected() }
        return -value
    }

    /// A number, or one of the strings `inf`, `-inf`, `nan` (how `LeadPayload` writes the non-finite).
    mutating func double() throws(Unexpected) -> Double {
        skipSpace()
        guard index < bytes.count else { throw Unexpected() }
        if bytes[index] == UInt8(ascii: "\"") {
            switch try string() {
            case "inf": return .infinity
            case "-inf": return -.infinity
            case "nan": return .nan
            default: throw Unexpected()
            }
        }
        let start = index
        try skipNumber()
        let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { throw Unexpected() }
        // A zero spelled with an exponent or a nonzero digit is left to JSONDecoder. A number too small for a
        // Double reads as 0 here and as an error there, and it refuses some spellings of zero (0e5, -0.0e5) while
        // it takes others (-0e5, 0e-5). JSONEncoder writes none of them.
        if value == 0, text.contains(where: { $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") || (UInt8(ascii: "1")...UInt8(ascii: "9")).contains($0) }) {
            throw Unexpected()
        }
        return value
    }

    /// Steps over a number as JSON spells it: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    /// (`Double` alone would take `05`, `+1` or `1.`, which JSON does not).
    private mutating func skipNumber() throws(Unexpected) {
        func digits() -> Int {
            let start = index
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 { index += 1 }
            return index - start
        }
        func next(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        _ = next(UInt8(ascii: "-"))
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else { throw Unexpected() }
        if next(UInt8(ascii: ".")) { guard digits() > 0 else { throw Unexpected() } }
        if next(UInt8(ascii: "e")) || next(UInt8(ascii: "E")) {
            if !next(UInt8(ascii: "+")) { _ = next(UInt8(ascii: "-")) }
            guard digits() > 0 else { throw Unexpected() }
        }
    }

    mutating func string() throws(Unexpected) -> String {
        skipSpace()
        try expect(UInt8(ascii: "\""))
        let start = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return try Self.validText(UnsafeBufferPointer(rebasing: bytes[start..<(index - 1)]))
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw Unexpected() }
            index += 1
        }
        throw Unexpected()
    }

    /// The byte ranges of the elements of the array that comes next (white space around them left out).
    mutating func arrayElementRanges() throws(Unexpected) -> [Range<Int>] {
        try expect(UInt8(ascii: "["))
        var ranges: [Range<Int>] = []
        try elements(closedBy: UInt8(ascii: "]"), depth: 0) { ranges.append($0) }
        return ranges
    }

    // MARK: Internals

    /// Steps over one value of any kind, checking only its structure (strings, brackets, commas).
    private mutating func skipValue(depth: Int = 0) throws(Unexpected) {
        guard depth < 64 else { throw Unexpected() }
        skipSpace()
        guard index < bytes.count else { throw Unexpected() }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            index += 1
            while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard index < bytes.count else { throw Unexpected() }
            index += 1
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = bytes[index] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            try elements(closedBy: close, depth: depth + 1) { _ in }
        default:
            // A number or a literal: up to the next delimiter.
            let start = index
            while index < bytes.count, !Self.isDelimiter(bytes[index]) { index += 1 }
            guard index > start else { throw Unexpected() }
        }
    }

    /// Steps over the elements of the array or object just opened, up to its closing `close`, and
    /// hands over each element's byte range (for an object, its value's; white space left out).
    private mutating func elements(closedBy close: UInt8, depth: Int, _ each: (Range<Int>) -> Void) throws(Unexpected) {
        skipSpace()
        if index < bytes.count, bytes[index] == close {
            index += 1
            return
        }
        while true {
            if close == UInt8(ascii: "}") {
                try skipValue(depth: depth) // the key
                try expect(UInt8(ascii: ":"))
            }
            skipSpace()
            let start = index
            try skipValue(depth: depth)
            each(start..<index)
            skipSpace()
            guard index < bytes.count else { throw Unexpected() }
            index += 1
            if bytes[index - 1] == close { return }
            guard bytes[index - 1] == UInt8(ascii: ",") else { throw Unexpected() }
        }
    }

    private static func isDelimiter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"), UInt8(ascii: ":"), 0x20, 0x0A, 0x0D, 0x09: true
        default: false
        }
    }

    /// The rest of a string that holds an escape, unescaped straight into the new string's storage
    /// (never longer than the escaped text): plain runs copied whole, escape by escape.
    private mutating func escapedString(from start: Int) throws(Unexpected) -> String {
        var end = index
        while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
            guard bytes[end] >= 0x20 else { throw Unexpected() }
            end += bytes[end] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard end < bytes.count else { throw Unexpected() }
        var failed = false
        let text = String(unsafeUninitializedCapacity: end - start) { out in
            var written = 0
            func copy(_ range: Range<Int>) {
                guard !range.isEmpty else { return }
                (out.baseAddress! + written).update(from: bytes.baseAddress! + range.lowerBound, count: range.count)
                written += range.count
            }
            copy(start..<index)
            var run = index
            while index < end {
                guard bytes[index] == UInt8(ascii: "\\") else {
                    index += 1
                    continue
                }
                copy(run..<index)
                index += 1
                guard let scalar = try? unescapedScalar() else {
                    failed = true
                    return 0
                }
                for byte in UTF8.encode(scalar)! {
                    out[written] = byte
                    written += 1
                }
                run = index
            }
            copy(run..<end)
            return written
        }
        // An escape that ran past the closing quote (`\u` with too few digits before it) is malformed too.
        guard !failed, index == end else { throw Unexpected() }
        index = end + 1
        return text
    }

    /// One escape, after its backslash: the character it stands for.
    private mutating func unescapedScalar() throws(Unexpected) -> Unicode.Scalar {
        guard index < bytes.count else { throw Unexpected() }
        let letter = bytes[index]
        index += 1
        switch letter {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): return Unicode.Scalar(letter)
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            var code = UInt32(try hex4())
            if (0xD800...0xDBFF).contains(code) {
                // A high surrogate must be followed by an escaped low one; a lone half is left to JSONDecoder.
                guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else { throw Unexpected() }
                index += 2
                let low = UInt32(try hex4())
                guard (0xDC00...0xDFFF).contains(low) else { throw Unexpected() }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(code) {
                throw Unexpected()
            }
            guard let scalar = Unicode.Scalar(code) else { throw Unexpected() }
            return scalar
        default:
            throw Unexpected()
        }
    }

    private mutating func hex4() throws(Unexpected) -> UInt16 {
        guard index + 4 <= bytes.count else { throw Unexpected() }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw Unexpected()
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }

    /// Byte equality without the generic sequence walk (this runs for every key of every payload).
    static func same(_ bytes: UnsafeBufferPointer<UInt8>, _ other: [UInt8]) -> Bool {
        other.withUnsafeBufferPointer { same(bytes, $0, 0..<$0.count) }
    }

    /// `bytes` equals `other[range]`, byte for byte.
    static func same(_ bytes: UnsafeBufferPointer<UInt8>, _ other: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard bytes.count == range.count else { return false }
        guard let base = bytes.baseAddress, let otherBase = other.baseAddress else { return true }
        return memcmp(base, otherBase + range.lowerBound, bytes.count) == 0
    }

    /// Text from bytes that must already be valid UTF-8 (JSONDecoder refuses invalid bytes too).
    private static func validText(_ bytes: UnsafeBufferPointer<UInt8>) throws(Unexpected) -> String {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw Unexpected() }
        return text
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let matches = word.withUTF8Buffer { Self.same($0, bytes, index..<(index + count)) }
        if matches { index += count }
        return matches
    }

    private mutating func expect(_ byte: UInt8) throws(Unexpected) {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else { throw Unexpected() }
        index += 1
    }

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }
}
