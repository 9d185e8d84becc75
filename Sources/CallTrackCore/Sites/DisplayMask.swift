/// How a site writes its numbers: each `X` takes one digit from the end of the number.
///
/// ```
/// DisplayMask("+7 (XXX) XXX-XX-XX").format(+74950000001) == "+7 (495) 000-00-01"
/// DisplayMask("8 (XXX) XXX-XX-XX").format(+74950000001)  == "8 (495) 000-00-01"
/// ```
/// A number with fewer digits than the mask has `X`s is shown in plain E.164, and so is one an
/// international mask does not fit (`+7 (XXX) …` and a UK number).
public struct DisplayMask: Hashable, Sendable, Codable, CustomStringConvertible {
    public let pattern: String
    /// Worked out once from the pattern: `format` runs on every allocation.
    public let placeholderCount: Int
    /// The digits before the first `X` of a mask that starts with "+" (nil for a national mask).
    private let countryDigits: [UInt8]?

    public init(_ pattern: String) {
        self.pattern = pattern
        let bytes = Array(pattern.utf8)
        placeholderCount = bytes.reduce(0) { $1 == UInt8(ascii: "X") ? $0 + 1 : $0 }
        countryDigits = pattern.unicodeScalars.first(where: { !$0.properties.isWhitespace }) == "+"
            ? bytes.prefix { $0 != UInt8(ascii: "X") }.filter { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
            : nil
    }

    public var description: String { pattern }

    public static func == (lhs: DisplayMask, rhs: DisplayMask) -> Bool { lhs.pattern == rhs.pattern }
    public func hash(into hasher: inout Hasher) { hasher.combine(pattern) }

    public func format(_ number: PhoneNumber) -> String {
        let count = placeholderCount
        let digits = number.digits.utf8
        guard count > 0, digits.count >= count else { return number.e164 }
        // A mask that starts with "+" spells the whole number: its own digits must be the number's
        // leading digits, or another country's number would be shown as a wrong one.
        if let countryDigits, !countryDigits.elementsEqual(digits.dropLast(count)) { return number.e164 }
        // Bytes, not Characters: a mask's "X" is always one byte.
        var next = digits.suffix(count).makeIterator()
        return String(unsafeUninitializedCapacity: pattern.utf8.count) { out in
            var written = 0
            for byte in pattern.utf8 {
                out[written] = byte == UInt8(ascii: "X") ? next.next() ?? byte : byte
                written += 1
            }
            return written
        }
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(pattern)
    }
}
