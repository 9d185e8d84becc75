/// A phone number in E.164: `+` then 8 to 15 digits, the first not zero.
///
/// `PhoneNumber.parse` accepts what people type and what Asterisk sends:
/// ```
/// "+7 (495) 000-00-01"   -> +74950000001
/// "8 495 000 00 01"      -> +74950000001   (RU trunk prefix 8)
/// "74950000001"          -> +74950000001   (country code, no plus, as carriers send it)
/// "4950000001"           -> +74950000001   (national number, default country RU)
/// "00 44 20 7946 0000"   -> +442079460000  (international prefix)
/// "+44 (0)20 7946 0000"  -> +442079460000  (bracketed trunk prefix)
/// ```
public struct PhoneNumber: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// Digits after the plus, e.g. `74950000001`.
    public let digits: String

    public var e164: String { "+" + digits }
    public var description: String { e164 }

    private init(validatedDigits: String) { digits = validatedDigits }

    /// The digits as one integer: exact and unique, as E.164 has at most 15 digits and no leading
    /// zero. Compact tables keep a number as this (8 bytes, no string).
    var packed: UInt64 { digits.utf8.reduce(0) { $0 &* 10 &+ UInt64($1 &- UInt8(ascii: "0")) } }

    /// The number a `packed` value was made from.
    init(packed: UInt64) { digits = String(packed) }

    public static func < (lhs: PhoneNumber, rhs: PhoneNumber) -> Bool { lhs.digits < rhs.digits }

    /// Why a string is not a phone number.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case empty
        case withheld(String)
        case invalidCharacter(Character)
        case tooShort(digits: Int)
        case tooLong(digits: Int)
        case unknownCountry(String)

        public var description: String {
            switch self {
            case .empty: "no digits"
            case .withheld(let raw): "caller id withheld (\(raw))"
            case .invalidCharacter(let c): "'\(c)' is not part of a phone number"
            case .tooShort(let n): "\(n) digits is too short for a phone number"
            case .tooLong(let n): "\(n) digits is longer than E.164 allows (15)"
            case .unknownCountry(let code): "unknown default country '\(code)'"
            }
        }
    }

    /// Parses `raw` as typed by a person or sent by a PBX; local spellings are read in `defaultCountry`.
    public static func parse(_ raw: String, defaultCountry: Country = .ru) throws(ParseError) -> PhoneNumber {
        let trimmed = raw.trimmingWhitespace()
        if trimmed.isEmpty { throw .empty }
        if Self.withheldSpellings.contains(trimmed.lowercased()) { throw .withheld(trimmed) }

        // "+44 (0)20 7946 0000": the bracketed trunk prefix is for callers at home, never dialled after the code.
        let spelled = trimmed.hasPrefix("+") ? trimmed.replacing("(0)", with: "") : trimmed
        var digits = ""
        var hasPlus = false
        for (index, character) in spelled.enumerated() {
            switch character {
            case "0"..."9": digits.append(character)
            case "+" where index == 0: hasPlus = true
            case " ", "-", "(", ")", ".", "/", "\u{00A0}": continue
            default: throw .invalidCharacter(character)
            }
        }
        if digits.isEmpty { throw .empty }

        let international: String
        if hasPlus {
            international = digits
        } else if digits.hasPrefix("00") {
            international = String(digits.dropFirst(2))
        } else if let exitCode = defaultCountry.alternativeExitCode, digits.hasPrefix(exitCode),
                  digits.count > exitCode.count + defaultCountry.nationalLengths.lowerBound {
            international = String(digits.dropFirst(exitCode.count))
        } else {
            international = defaultCountry.internationalDigits(fromLocal: digits)
        }
        return try validated(international)
    }

    /// Builds a number from digits already known to be E.164 (with or without the plus).
    public static func e164(_ raw: String) throws(ParseError) -> PhoneNumber {
        let digits = raw.hasPrefix("+") ? String(raw.dropFirst()) : raw
        for character in digits where !("0"..."9").contains(character) { throw .invalidCharacter(character) }
        return try validated(digits)
    }

    private static func validated(_ digits: String) throws(ParseError) -> PhoneNumber {
        if digits.isEmpty || digits.first == "0" { throw .tooShort(digits: digits.count) }
        if digits.count < 8 { throw .tooShort(digits: digits.count) }
        if digits.count > 15 { throw .tooLong(digits: digits.count) }
        return PhoneNumber(validatedDigits: digits)
    }

    /// What PBXs and carriers send when the caller hid their number.
    static let withheldSpellings: Set<String> = [
        "anonymous", "<unknown>", "unknown", "private", "restricted", "withheld", "unavailable", "s",
    ]

    public init(from decoder: any Decoder) throws {
        let raw = try decoder.singleValueContainer().decode(String.self)
        do { self = try PhoneNumber.e164(raw) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(e164)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return String(view)
    }
}
