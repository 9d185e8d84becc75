/// What it takes to read a local spelling of a number in one country.
public struct Country: Hashable, Sendable, CustomStringConvertible {
    /// ISO 3166-1 alpha-2, e.g. `RU`.
    public let isoCode: String
    /// Country calling code digits, e.g. `7`.
    public let callingCode: String
    /// National trunk prefix dialled before the area code, e.g. `8` in Russia, `0` in Germany.
    public let trunkPrefix: String?
    /// Lengths of the national significant number (after calling code and trunk prefix).
    public let nationalLengths: ClosedRange<Int>
    /// An exit code other than `00` still in use, e.g. `810` in Russia.
    public let alternativeExitCode: String?

    public var description: String { isoCode }

    /// Local digits (no plus) to international digits.
    func internationalDigits(fromLocal digits: String) -> String {
        if let trunk = trunkPrefix, digits.hasPrefix(trunk),
           nationalLengths.contains(digits.count - trunk.count) {
            return callingCode + digits.dropFirst(trunk.count)
        }
        if digits.hasPrefix(callingCode), nationalLengths.contains(digits.count - callingCode.count) {
            return digits
        }
        if nationalLengths.contains(digits.count) {
            return callingCode + digits
        }
        return digits
    }

    public static let ru = Country(isoCode: "RU", callingCode: "7", trunkPrefix: "8", nationalLengths: 10...10, alternativeExitCode: "810")
    public static let kz = Country(isoCode: "KZ", callingCode: "7", trunkPrefix: "8", nationalLengths: 10...10, alternativeExitCode: "810")
    public static let by = Country(isoCode: "BY", callingCode: "375", trunkPrefix: "80", nationalLengths: 9...9, alternativeExitCode: "810")
    public static let ua = Country(isoCode: "UA", callingCode: "380", trunkPrefix: "0", nationalLengths: 9...9, alternativeExitCode: nil)
    public static let us = Country(isoCode: "US", callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10, alternativeExitCode: "011")
    public static let ca = Country(isoCode: "CA", callingCode: "1", trunkPrefix: "1", nationalLengths: 10...10, alternativeExitCode: "011")
    public static let gb = Country(isoCode: "GB", callingCode: "44", trunkPrefix: "0", nationalLengths: 9...10, alternativeExitCode: nil)
    public static let de = Country(isoCode: "DE", callingCode: "49", trunkPrefix: "0", nationalLengths: 6...13, alternativeExitCode: nil)
    public static let fr = Country(isoCode: "FR", callingCode: "33", trunkPrefix: "0", nationalLengths: 9...9, alternativeExitCode: nil)
    public static let pl = Country(isoCode: "PL", callingCode: "48", trunkPrefix: nil, nationalLengths: 9...9, alternativeExitCode: nil)
    public static let tr = Country(isoCode: "TR", callingCode: "90", trunkPrefix: "0", nationalLengths: 10...10, alternativeExitCode: nil)

    public static let known: [Country] = [.ru, .kz, .by, .ua, .us, .ca, .gb, .de, .fr, .pl, .tr]

    /// The country for an ISO code (any case), or nil when we do not know its numbering plan.
    public static func named(_ isoCode: String) -> Country? {
        let upper = isoCode.uppercased()
        return known.first { $0.isoCode == upper }
    }
}
