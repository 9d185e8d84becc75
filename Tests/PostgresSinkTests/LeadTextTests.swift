import PostgresSink
import Testing

@Suite struct LeadTextTests {
    @Test(arguments: [
        (#"{"a":"x\u0000y"}"#, #"{"a":"x\ufffdy"}"#),
        (#"{"a":"\\u0000"}"#, #"{"a":"\\u0000"}"#),          // an escaped backslash, then text: untouched
        (#"{"a":"\\\u0000"}"#, #"{"a":"\\\ufffd"}"#),        // an escaped backslash, then a NUL escape
        (#"["\u00001","\u0041"]"#, #"["\ufffd1","\u0041"]"#),
        ("{}", "{}"),
    ])
    func jsonLosesOnlyNULEscapes(input: String, expected: String) {
        #expect(LeadText.jsonWithoutNUL(input) == expected)
    }

    @Test func truncationKeepsWholeCharactersWithinTheByteBudget() {
        let text = String(repeating: "аб€😀x", count: 300) // 2-, 2-, 3-, 4- and 1-byte scalars
        for limit in [0, 1, 2, 3, 5, 7, 100, 1023, 1024, 10_000] {
            let cut = LeadText.truncated(text, maxBytes: limit)
            #expect(cut.utf8.count <= limit)
            #expect(text.unicodeScalars.starts(with: cut.unicodeScalars))
            // Nothing more would have fit.
            if cut.unicodeScalars.count < text.unicodeScalars.count {
                let next = text.unicodeScalars[text.unicodeScalars.index(text.unicodeScalars.startIndex, offsetBy: cut.unicodeScalars.count)]
                #expect(cut.utf8.count + UTF8.width(next) > limit)
            }
        }
    }

    @Test func bytesBecomeTextWithoutNULsAndWithInvalidSequencesReplaced() {
        #expect(LeadText.repaired([0x41, 0x00, 0xFF, 0x42, 0xE2, 0x82]) == "A\u{FFFD}B\u{FFFD}")
        #expect(LeadText.repaired(Array("Иван".utf8)) == "Иван")
    }
}
