/// An amount of money, exact: whole hundredths of the currency's unit (kopecks, cents), as CRMs and the ad cabinets
/// report them. Never a floating-point number on the way in or in the store; GA4 gets a number at the edge.
public struct Money: Hashable, Sendable, Comparable {
    public var hundredths: Int64
    /// ISO 4217, upper case (`RUB`, `EUR`).
    public var currency: String

    public init(hundredths: Int64, currency: String) {
        self.hundredths = hundredths
        self.currency = currency
    }

    /// Reads an amount written as a CRM or a spreadsheet writes it: `12500`, `12500.5`, `12 500,50`, `-3.10`.
    /// Spaces (also non-breaking) group thousands; a comma or a point separates at most two decimals.
    public static func parse(_ text: String, currency: String) throws(MoneyError) -> Money {
        let code = try Self.currencyCode(currency)
        var digits = text.unicodeScalars.filter { $0 != " " && $0 != "\u{00A0}" && $0 != "\u{202F}" && $0 != "'" }
        var negative = false
        if digits.first == "-" { negative = true; digits.removeFirst() } else if digits.first == "+" { digits.removeFirst() }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var inFraction = false
        var sawDigit = false
        for scalar in digits {
            switch scalar {
            case "0"..."9":
                sawDigit = true
                let digit = Int64(scalar.value - 48)
                if inFraction {
                    fractionDigits += 1
                    guard fractionDigits <= 2 else { throw .tooManyDecimals(text) }
                    fraction = fraction * 10 + digit
                } else {
                    let (times, o1) = whole.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times.addingReportingOverflow(digit)
                    guard !o1, !o2, sum <= Self.largestWhole else { throw .tooLarge(text) }
                    whole = sum
                }
            case ".", ",":
                guard !inFraction, sawDigit else { throw .notAnAmount(text) }
                inFraction = true
            default:
                throw .notAnAmount(text)
            }
        }
        guard sawDigit else { throw .notAnAmount(text) }
        if fractionDigits == 1 { fraction *= 10 }
        let hundredths = whole * 100 + fraction
        return Money(hundredths: negative ? -hundredths : hundredths, currency: code)
    }

    /// The largest whole amount accepted: far above any deal, far below overflow.
    static let largestWhole: Int64 = 1_000_000_000_000

    /// `currency` as ISO 4217 wants it: three letters, upper case.
    public static func currencyCode(_ text: String) throws(MoneyError) -> String {
        let code = text.uppercased()
        guard code.utf8.count == 3, code.utf8.allSatisfy({ $0 >= 65 && $0 <= 90 }) else { throw .notACurrency(text) }
        return code
    }

    /// The amount with two decimals and a point, no grouping (`12500.50`, `-3.10`): CSV, PostgreSQL `numeric`, JSON.
    public var decimal: String {
        let magnitude = hundredths.magnitude
        let cents = magnitude % 100
        return (hundredths < 0 ? "-" : "") + String(magnitude / 100) + "." + (cents < 10 ? "0" : "") + String(cents)
    }

    /// For the APIs that want a number (GA4's `value`); exact up to 2^53 hundredths.
    public var double: Double { Double(hundredths) / 100 }

    public static func < (lhs: Money, rhs: Money) -> Bool {
        (lhs.currency, lhs.hundredths) < (rhs.currency, rhs.hundredths)
    }
}

/// Why a text is not an amount of money; `description` says what to write instead.
public enum MoneyError: Error, Hashable, Sendable, CustomStringConvertible {
    case notAnAmount(String)
    case tooManyDecimals(String)
    case tooLarge(String)
    case notACurrency(String)

    public var description: String {
        switch self {
        case .notAnAmount(let text): "\"\(text)\" is not an amount: write digits with at most one decimal point, e.g. 12500.50"
        case .tooManyDecimals(let text): "\"\(text)\" has more than two decimals: round it to hundredths, e.g. 12500.50"
        case .tooLarge(let text): "\"\(text)\" is larger than any deal calltrackd accepts (10^12)"
        case .notACurrency(let text): "\"\(text)\" is not a currency code: write ISO 4217's three letters, e.g. RUB, EUR, USD"
        }
    }
}
