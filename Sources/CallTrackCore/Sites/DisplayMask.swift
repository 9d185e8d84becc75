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
    public init(_ pattern: String) { self.pattern = pattern }
    public var description: String { pattern }

    public var placeholderCount: Int { pattern.utf8.reduce(0) { $1 == UInt8(ascii: "X") ? $0 + 1 : $0 } }

    public func format(_ number: PhoneNumber) -> String {
        let count = placeholderCount
        guard count > 0, number.digits.count >= count else { return number.e164 }
        // A mask that starts with "+" spells the whole number: its own digits must be the number's
        // leading digits, or another country's number would be shown as a wrong one.
        if pattern.first(where: { !$0.isWhitespace }) == "+" {
            let fixed = pattern.prefix { $0 != "X" }.filter { ("0"..."9").contains($0) }
            guard fixed.elementsEqual(number.digits.dropLast(count)) else { return number.e164 }
        }
        // Bytes, not Characters: this runs on every allocation, and a mask's "X" is always one byte.
        var digits = number.digits.utf8.suffix(count).makeIterator()
        var out: [UInt8] = []
        out.reserveCapacity(pattern.utf8.count)
        for byte in pattern.utf8 {
            if byte == UInt8(ascii: "X"), let digit = digits.next() { out.append(digit) } else { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    public init(from decoder: any Decoder) throws {
        pattern = try decoder.singleValueContainer().decode(String.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(pattern)
    }
}
