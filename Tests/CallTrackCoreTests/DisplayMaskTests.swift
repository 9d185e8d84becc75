import CallTrackCore
import Foundation
import Testing

@Suite("Display masks")
struct DisplayMaskTests {
    let moscow = try! PhoneNumber.parse("+74950000001")

    @Test("masks from SPEC fill their X's from the number's last digits", arguments: [
        ("+7 (XXX) XXX-XX-XX", "+7 (495) 000-00-01"),
        ("8 (XXX) XXX-XX-XX", "8 (495) 000-00-01"),
        ("+X XXX XXX-XX-XX", "+7 495 000-00-01"),
        ("XXX-XX-XX", "000-00-01"),
        ("+7XXXXXXXXXX", "+74950000001"),
    ])
    func russian(mask: String, shown: String) {
        #expect(DisplayMask(mask).format(moscow) == shown)
    }

    @Test("a number the mask does not fit is shown in E.164, never as a wrong number")
    func misfits() throws {
        let london = try PhoneNumber.parse("+44 20 7946 0000")
        #expect(DisplayMask("+7 (XXX) XXX-XX-XX").format(london) == "+442079460000")
        #expect(DisplayMask("+X XXX XXX-XX-XX").format(london) == "+442079460000")
        #expect(DisplayMask("+XX XX XXXX XXXX").format(london) == "+44 20 7946 0000")
        #expect(DisplayMask("no placeholders").format(moscow) == "+74950000001")
        #expect(DisplayMask("+7 XXXXXXXXXXXXXXXX").format(moscow) == "+74950000001")
    }

    @Test("US and national masks")
    func otherCountries() throws {
        let ny = try PhoneNumber.parse("(212) 555-0123", defaultCountry: .us)
        #expect(DisplayMask("+1 (XXX) XXX-XXXX").format(ny) == "+1 (212) 555-0123")
        #expect(DisplayMask("(XXX) XXX-XXXX").format(ny) == "(212) 555-0123")
    }

    @Test("a mask is a plain string in JSON and config")
    func codable() throws {
        let data = try JSONEncoder().encode([DisplayMask("8 (XXX) XXX-XX-XX")])
        #expect(String(decoding: data, as: UTF8.self) == #"["8 (XXX) XXX-XX-XX"]"#)
        #expect(try JSONDecoder().decode([DisplayMask].self, from: data) == [DisplayMask("8 (XXX) XXX-XX-XX")])
        #expect(DisplayMask("8 (XXX) XXX-XX-XX").placeholderCount == 10)
    }
}
