import CallTrackCore
import Foundation
import PostgresSink
import Testing
import TestSupport

/// The outbox payload reader gives exactly what `JSONDecoder` gives, for every payload: the
/// daemon's own (read in place) and any other (left to `JSONDecoder`).
@Suite struct LeadPayloadTests {
    /// What Foundation makes of a payload: the reference.
    private func reference(_ payload: String) -> LeadChange? {
        try? LeadPayload.decoder().decode(LeadChange.self, from: Data(payload.utf8))
    }

    /// Text with everything JSON escapes or that breaks naive readers: quotes, backslashes,
    /// control characters, `/`, non-ASCII, astral scalars, U+2028, look-alike escapes.
    private static let alphabet: [String] = [
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "Ж", "€",
        "\u{2028}", "😀", "👩‍👩‍👧", "e\u{301}", "\\u0041", "{", "}", ",", ":", "[", "]", "null", "\u{FFFD}", "\u{FEFF}",
    ]

    private static func text(_ rng: inout SeededRandom) -> String {
        (0..<Int.random(in: 0...12, using: &rng)).map { _ in rng.pick(alphabet) }.joined()
    }

    private static func optionalText(_ rng: inout SeededRandom) -> String? {
        rng.chance(0.3) ? nil : text(&rng)
    }

    private static func timestamp(_ rng: inout SeededRandom) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: rng.chance(0.1) ? rng.pick([Int64.min, -1, 0, Int64.max]) : Int64.random(in: 0...2_000_000_000_000_000, using: &rng))
    }

    private static func change(_ rng: inout SeededRandom) -> LeadChange {
        LeadChange(
            callID: text(&rng), revision: rng.chance(0.1) ? rng.pick([Int64.min, Int64.max, 0]) : Int64.random(in: 0...3, using: &rng),
            siteID: text(&rng), trackingNumber: text(&rng), caller: optionalText(&rng), callerName: optionalText(&rng),
            startedAt: timestamp(&rng), answeredAt: rng.chance(0.5) ? timestamp(&rng) : nil, endedAt: rng.chance(0.5) ? timestamp(&rng) : nil,
            disposition: text(&rng), answeredBy: optionalText(&rng),
            talkSeconds: Int.random(in: -5...100_000, using: &rng), ringSeconds: rng.chance(0.1) ? Int.max : Int.random(in: 0...60, using: &rng),
            matchKind: text(&rng),
            matchConfidence: rng.pick([0, 1, 0.5, 0.1, 1e-300, -0.0, 0.3333333333333333, .infinity, -.infinity, 123456.789e10]),
            candidateCount: Int.random(in: 0...9, using: &rng), matchExplanation: text(&rng),
            visitorID: optionalText(&rng), sessionID: optionalText(&rng), userAgent: optionalText(&rng),
            firstTouch: optionalText(&rng), lastTouch: optionalText(&rng), journey: text(&rng),
            dealerID: optionalText(&rng), isLead: rng.chance(0.5), junkReason: optionalText(&rng), repeatOf: optionalText(&rng),
            changedAt: timestamp(&rng))
    }

    @Test(arguments: 1...8 as ClosedRange<UInt64>)
    func everyEncodedChangeReadsBackAsFoundationReadsIt(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let encoder = LeadPayload.encoder()
        for _ in 0..<250 {
            let change = Self.change(&rng)
            let payload = String(decoding: try encoder.encode(change), as: UTF8.self)
            // Read in place, not left to JSONDecoder: the daemon's own payloads take the fast path.
            let read = LeadPayload.readInPlace(payload)
            #expect(read == change, "seed \(seed): \(payload)")
            #expect(read == reference(payload), "seed \(seed): \(payload)")
        }
    }

    /// Damaged payloads (bytes flipped, dropped, repeated, cut): never a crash, and always what
    /// `JSONDecoder` makes of them, a change or none.
    @Test(arguments: 1...32 as ClosedRange<UInt64>)
    func damagedPayloadsReadAsFoundationReadsThem(seed: UInt64) throws {
        var rng = SeededRandom(seed: seed)
        let encoder = LeadPayload.encoder()
        let damage: [UInt8] = Array(#"{}[]",:\"0123456789-+.eEtrufalsn u"#.utf8) + [0x00, 0x1F, 0x7F, 0xC3, 0xA9, 0xFF]
        for _ in 0..<300 {
            var bytes = Array(try encoder.encode(Self.change(&rng)))
            for _ in 0..<Int.random(in: 1...3, using: &rng) where !bytes.isEmpty {
                let at = Int.random(in: 0..<bytes.count, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0: bytes[at] = rng.pick(damage)
                case 1: bytes.remove(at: at)
                case 2: bytes.insert(bytes[at], at: at)
                default: bytes.removeLast(Int.random(in: 0...min(8, bytes.count - at), using: &rng))
                }
            }
            let payload = String(decoding: bytes, as: UTF8.self)
            // Where the fast reader answers at all, it answers as Foundation does.
            if let read = LeadPayload.readInPlace(payload) { #expect(read == reference(payload), "seed \(seed): \(payload)") }
            #expect(LeadPayload.decode(payload) == reference(payload), "seed \(seed): \(payload)")
        }
    }

    @Test func notANumberReadsBack() throws {
        var change = LeadChange(callID: "c", revision: 1, siteID: "s", trackingNumber: "+1", startedAt: .epoch,
                                matchKind: "exact", matchConfidence: .nan, candidateCount: 1, changedAt: .epoch)
        let payload = String(decoding: try LeadPayload.encoder().encode(change), as: UTF8.self)
        var read = try #require(LeadPayload.readInPlace(payload))
        #expect(read.matchConfidence.isNaN)
        (read.matchConfidence, change.matchConfidence) = (0, 0) // NaN equals nothing, itself included
        #expect(read == change)
    }

    private static let base = #""callID":"c1","revision":2,"siteID":"acme","trackingNumber":"+74950000001","startedAt":{"microsecondsSinceEpoch":5},"disposition":"ringing","talkSeconds":0,"ringSeconds":3,"matchKind":"exact","matchConfidence":1,"candidateCount":1,"matchExplanation":"{}","journey":"[]","isLead":true,"changedAt":{"microsecondsSinceEpoch":6}"#

    /// Payloads another writer could have made (older daemons, a person with sqlite3): each is
    /// read exactly as `JSONDecoder` reads it, including "not a change".
    @Test(arguments: [
        "{\(base)}",
        "{ \(base.replacingOccurrences(of: ",", with: " ,\n\t").replacingOccurrences(of: ":", with: " : ")) }",
        #"{"isLead":false,"#+base.replacingOccurrences(of: #","isLead":true"#, with: "")+"}",  // another key order
        "{\(base),\"caller\":null,\"answeredAt\":null}",                                         // explicit nulls
        "{\(base),\"callerName\":\"\\u0418\\u0432\\u0430\\u043d \\ud83d\\ude00 \\/ \\b\\f\"}",   // escapes of every kind
        "{\(base),\"callerName\":\"\\ud83d\"}",                                                    // a lone surrogate
        "{\(base),\"callerName\":\"\\udc00x\"}",
        "{\(base),\"callerName\":\"a\u{1}b\"}",                                                    // a raw control character
        "{\(base),\"callerName\":\"x\\\"y\\u12\"}",                                               // an escape cut short by the quote
        "{\(base),\"callerName\":\"\\ud83d\\u\"}",
        "{\(base),\"callerName\":\"x\\q\"}",                                                      // not an escape
        "{\(base),\"unknown\":[1,{\"x\":null}]}",                                                  // a key it does not know
        "{\(base),\"callerName\":\"x\",\"callerName\":\"y\"}",                                     // a key twice
        "{\(base),\"talkSeconds\":1.5}".replacingOccurrences(of: #""talkSeconds":0,"#, with: ""),
        "{\(base),\"callerName\":7}",
        "{\(base)",                                                                                // cut short
        "{\(base)} trailing",
        "{\(base)}}",
        base,
        "{\(base.replacingOccurrences(of: #""callID":"c1","#, with: ""))}",                        // a required key missing
        "{\(base.replacingOccurrences(of: #""revision":2"#, with: #""revision":99999999999999999999"#))}",
        "{\(base.replacingOccurrences(of: #""revision":2"#, with: #""revision":-0"#))}",
        "{\(base.replacingOccurrences(of: #""revision":2"#, with: #""revision":02"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":"inf""#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":2.5e-3"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":+1"#))}",
        // A zero with an exponent: JSONDecoder refuses 0e5, 0E5 and -0.0e5 but takes -0e5, 0e-5 and 0.0E5.
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":0e5"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":0E5"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":-0.0e5"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":-0e5"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":0e-5"#))}",
        "{\(base.replacingOccurrences(of: #""matchConfidence":1"#, with: #""matchConfidence":0.0E5"#))}",
        "{\(base.replacingOccurrences(of: "true", with: "1"))}",
        "",
        "[]",
        "null",
    ])
    func otherPayloadsReadAsFoundationReadsThem(payload: String) {
        #expect(LeadPayload.decode(payload) == reference(payload))
    }

    @Test func handWrittenPayloadsAreReadInPlaceToo() {
        // White space, another key order, explicit nulls and every kind of escape: still the fast path.
        for payload in [
            "{ \(Self.base.replacingOccurrences(of: ",", with: " ,\n\t").replacingOccurrences(of: ":", with: " : ")) }",
            "{\(Self.base),\"caller\":null,\"answeredAt\":null}",
            "{\(Self.base),\"callerName\":\"\\u0418\\u0432\\u0430\\u043d \\ud83d\\ude00 \\/ \\b\\f\"}",
        ] {
            #expect(LeadPayload.readInPlace(payload) != nil, "\(payload)")
            #expect(LeadPayload.readInPlace(payload) == reference(payload), "\(payload)")
        }
        #expect(LeadPayload.readInPlace("{\(Self.base),\"callerName\":\"\\u0418\"}")?.callerName == "И")
    }

    @Test func invalidUTF8IsNotAChange() {
        let bytes = Array("{\(Self.base),\"callerName\":\"".utf8) + [0xFF, 0xFE] + Array("\"}".utf8)
        let payload = String(decoding: bytes, as: UTF8.self) // what a String can hold: U+FFFD in place of the bytes
        #expect(LeadPayload.decode(payload)?.callerName == "\u{FFFD}\u{FFFD}")
        #expect(LeadPayload.decode(payload) == reference(payload))
    }
}
