/// Where a number is from, as far as its digits tell: the country calling code and, where the
/// numbering plan has fixed-length area codes we know, the area code.
///
/// ```
/// +74951234567  -> +7 495     (Russia and Kazakhstan: the 3-digit ABC/DEF code)
/// +12125550123  -> +1 212     (NANP: the 3-digit NPA)
/// +442079460000 -> +44        (country only: UK area codes vary in length)
/// +375171234567 -> +375
/// ```
public struct PhoneRegion: Hashable, Sendable, CustomStringConvertible {
    /// ITU calling code digits, e.g. `7`.
    public var callingCode: String
    /// Area code digits within the calling code, e.g. `495`; nil for a whole country.
    public var areaCode: String?

    public init(callingCode: String, areaCode: String? = nil) {
        self.callingCode = callingCode
        self.areaCode = areaCode
    }

    public var description: String { areaCode.map { "+\(callingCode) \($0)" } ?? "+\(callingCode)" }

    /// The same region without its area code (the whole country).
    public var country: PhoneRegion { PhoneRegion(callingCode: callingCode) }

    /// Why a region spelling was not understood.
    public enum ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        case notARegion(String)
        case unknownCallingCode(String)
        case areaCodeNotSupported(String)
        case badAreaCode(String)

        public var description: String {
            switch self {
            case .notARegion(let raw): "'\(raw)' is not a region: write + and the country code, then optionally the area code, e.g. \"+7 495\", \"+1 212\" or \"+44\""
            case .unknownCallingCode(let raw): "'\(raw)' does not start with a country calling code"
            case .areaCodeNotSupported(let raw): "'\(raw)': area codes are read for +7 and +1 only; write the country alone"
            case .badAreaCode(let raw): "'\(raw)': an area code for +7 or +1 has 3 digits"
            }
        }
    }

    /// Reads `"+7 495"`, `"+7-495"`, `"+1 212"` or a whole country such as `"+44"`.
    public static func parse(_ raw: String) throws(ParseError) -> PhoneRegion {
        let trimmed = raw.trimmingWhitespace()
        guard trimmed.hasPrefix("+") else { throw .notARegion(raw) }
        let parts = trimmed.dropFirst().split(whereSeparator: { $0 == " " || $0 == "-" })
        guard (1...2).contains(parts.count), parts.allSatisfy({ part in !part.isEmpty && part.allSatisfy { ("0"..."9").contains($0) } }) else {
            throw .notARegion(raw)
        }
        let code = String(parts[0])
        guard callingCode(ofDigits: code) == code else { throw .unknownCallingCode(raw) }
        guard parts.count == 2 else { return PhoneRegion(callingCode: code) }
        guard areaCodeLength(callingCode: code) != nil else { throw .areaCodeNotSupported(raw) }
        guard parts[1].count == 3 else { throw .badAreaCode(raw) }
        return PhoneRegion(callingCode: code, areaCode: String(parts[1]))
    }

    /// Area code length where it is fixed in the whole numbering plan: Russia/Kazakhstan (+7) and NANP (+1).
    static func areaCodeLength(callingCode: String) -> Int? {
        callingCode == "7" || callingCode == "1" ? 3 : nil
    }

    /// The calling code at the start of international digits, by the ITU's code structure: 1 and 7 are
    /// one digit, the two-digit codes are listed, every other code has three digits.
    static func callingCode(ofDigits digits: String) -> String? {
        guard let first = digits.first, first != "0" else { return nil }
        if first == "1" || first == "7" { return String(first) }
        guard digits.count >= 2 else { return nil }
        let two = String(digits.prefix(2))
        if twoDigitCodes.contains(two) { return two }
        return digits.count >= 3 ? String(digits.prefix(3)) : nil
    }

    static let twoDigitCodes: Set<String> = [
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47", "48", "49",
        "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
        "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    ]
}

extension PhoneNumber {
    /// The caller's region: calling code, and the area code for +7 and +1 numbers.
    public var region: PhoneRegion {
        // A valid number has at least 8 digits, so a calling code of up to 3 always fits.
        let code = PhoneRegion.callingCode(ofDigits: digits) ?? String(digits.prefix(3))
        guard let length = PhoneRegion.areaCodeLength(callingCode: code) else { return PhoneRegion(callingCode: code) }
        let national = digits.dropFirst(code.count)
        return PhoneRegion(callingCode: code, areaCode: String(national.prefix(length)))
    }
}
