import CallTrackCore
import Foundation
import Testing

@Suite("Phone numbers")
struct PhoneNumberTests {
    /// The spellings of SPEC §Concepts, and what Asterisk and carriers send, in Russia (the default country).
    @Test("Russian spellings all read as +74950000001", arguments: [
        "8 (495) 000-00-01", "74950000001", "+7 495 000 00 01", "+7 (495) 000-00-01", "84950000001",
        "4950000001", "8-495-000-00-01", "+7.495.000.00.01", "007 495 000 00 01", "810 7 495 000 00 01",
        "  +7 495 000 00 01\t", "8\u{00A0}495\u{00A0}000\u{00A0}00\u{00A0}01", "(495) 000 00 01",
    ])
    func russianSpellings(raw: String) throws {
        #expect(try PhoneNumber.parse(raw).e164 == "+74950000001")
    }

    @Test("the 00 international prefix reads a number of any country", arguments: [
        ("00 44 20 7946 0000", "+442079460000"),
        ("0049 30 1234567", "+49301234567"),
        ("001 212 555 0123", "+12125550123"),
    ])
    func internationalPrefix(raw: String, e164: String) throws {
        #expect(try PhoneNumber.parse(raw, defaultCountry: .ru).e164 == e164)
        #expect(try PhoneNumber.parse(raw, defaultCountry: .de).e164 == e164)
    }

    /// Local spellings in each country the parser knows, with its trunk prefix and exit code.
    @Test("local spellings in other countries", arguments: [
        (Country.kz, "8 (727) 123-45-67", "+77271234567"),
        (Country.by, "8 017 123-45-67", "+375171234567"),
        (Country.by, "810 7 495 000 00 01", "+74950000001"),
        (Country.ua, "044 123 4567", "+380441234567"),
        (Country.us, "(212) 555-0123", "+12125550123"),
        (Country.us, "1 212 555 0123", "+12125550123"),
        (Country.us, "011 44 20 7946 0000", "+442079460000"),
        (Country.ca, "416-555-0123", "+14165550123"),
        (Country.gb, "020 7946 0000", "+442079460000"),
        (Country.gb, "+44 (0)20 7946 0000", "+442079460000"),
        (Country.de, "+49 (0)30 1234567", "+49301234567"),
        (Country.de, "030 1234567", "+49301234567"),
        (Country.de, "0171 1234567", "+491711234567"),
        (Country.fr, "01 23 45 67 89", "+33123456789"),
        (Country.pl, "12 345 67 89", "+48123456789"),
        (Country.tr, "0212 123 45 67", "+902121234567"),
    ])
    func otherCountries(country: Country, raw: String, e164: String) throws {
        #expect(try PhoneNumber.parse(raw, defaultCountry: country).e164 == e164)
    }

    @Test("countries are found by ISO code in any case; unknown codes are nil")
    func countryLookup() {
        #expect(Country.named("ru") == .ru)
        #expect(Country.named("De") == .de)
        #expect(Country.named("XX") == nil)
        #expect(Set(Country.known.map(\.isoCode)).count == Country.known.count)
    }

    @Test("garbage is rejected with a reason", arguments: [
        ("", PhoneNumber.ParseError.empty),
        ("   ", .empty),
        ("+", .empty),
        ("()-", .empty),
        ("anonymous", .withheld("anonymous")),
        ("Anonymous", .withheld("Anonymous")),
        ("<unknown>", .withheld("<unknown>")),
        ("abc", .invalidCharacter("a")),
        ("+7 495 000 00 01 ext. 5", .invalidCharacter("e")),
        ("7+4950000001", .invalidCharacter("+")),
        ("++74950000001", .invalidCharacter("+")),
        ("tel:+74950000001", .invalidCharacter("t")),
        ("١٢٣٤٥٦٧٨٩", .invalidCharacter("١")),
        ("123", .tooShort(digits: 3)),
        ("101", .tooShort(digits: 3)),
        ("+1234567", .tooShort(digits: 7)),
        ("+1234567890123456", .tooLong(digits: 16)),
        ("8 495 000 00 01 23 45 67", .tooLong(digits: 17)),
    ])
    func garbage(raw: String, error: PhoneNumber.ParseError) {
        #expect(throws: error) { try PhoneNumber.parse(raw) }
        #expect(!error.description.isEmpty)
    }

    @Test("a number never starts with 0 after the country code is resolved")
    func leadingZero() {
        #expect(throws: PhoneNumber.ParseError.self) { try PhoneNumber.parse("+0123456789") }
        #expect(throws: PhoneNumber.ParseError.self) { try PhoneNumber.e164("0123456789") }
    }

    @Test("e164() takes only digits, with or without the plus")
    func strictE164() throws {
        #expect(try PhoneNumber.e164("+74950000001") == PhoneNumber.e164("74950000001"))
        #expect(throws: PhoneNumber.ParseError.invalidCharacter(" ")) { try PhoneNumber.e164("+7 495 000 00 01") }
    }

    @Test("JSON carries E.164 strings, and refuses anything else with a decoding error")
    func codable() throws {
        let number = try PhoneNumber.parse("8 (495) 000-00-01")
        let json = try JSONEncoder().encode([number])
        #expect(String(decoding: json, as: UTF8.self) == #"["+74950000001"]"#)
        #expect(try JSONDecoder().decode([PhoneNumber].self, from: json) == [number])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([PhoneNumber].self, from: Data(#"["8 (495) 000-00-01"]"#.utf8)) }
    }

    @Test("numbers order by digits, so lists print stably")
    func ordering() throws {
        let a = try PhoneNumber.parse("+7 495 000 00 01")
        let b = try PhoneNumber.parse("+7 495 000 00 02")
        #expect(a < b && [b, a].sorted() == [a, b])
    }
}
