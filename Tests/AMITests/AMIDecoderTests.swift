import AMI
import NIOCore
import Testing

@Suite("AMI codec")
struct AMIDecoderTests {
    private func decode(_ text: String, limits: AMIDecoder.Limits = .init(), filter: AMIMessageFilter = .all) -> [AMIDecoder.Output] {
        decode(Array(text.utf8), limits: limits, filter: filter)
    }

    private func decode(
        _ bytes: [UInt8], limits: AMIDecoder.Limits = .init(), filter: AMIMessageFilter = .all, sender: AMIDecoder.Sender = .asterisk
    ) -> [AMIDecoder.Output] {
        var decoder = AMIDecoder(limits: limits, filter: filter, sender: sender)
        decoder.feed(bytes)
        var outputs: [AMIDecoder.Output] = []
        decoder.drain { outputs.append($0) }
        return outputs
    }

    private func messages(_ outputs: [AMIDecoder.Output]) -> [AMIMessage] {
        outputs.compactMap { if case .message(let m) = $0 { m } else { nil } }
    }

    @Test("banner, then a response, with CRLF")
    func bannerThenResponse() {
        let outputs = decode("Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nActionID: ct-1\r\nMessage: Authentication accepted\r\n\r\n")
        #expect(outputs.count == 2)
        #expect(outputs.first == .banner("Asterisk Call Manager/9.0.0"))
        let response = messages(outputs)[0]
        #expect(response.response == "Success")
        #expect(response.actionID == "ct-1")
        #expect(response.event == nil)
    }

    @Test("bare LF line ends, keys in any case, values with colons, empty values, repeated keys")
    func tolerantFraming() throws {
        let message = try #require(messages(decode(
            "event: Status\nCHANNEL: SIP/trunk-00000020\nAppData: Tracking DID: 74950000001\nAccountCode: \nVariable: A=1\nVariable: TRACKING_DID=74950000001\n\n"
        )).first)
        #expect(message.event == "Status")
        #expect(message["channel"] == "SIP/trunk-00000020")
        #expect(message["AppData"] == "Tracking DID: 74950000001")
        #expect(message["AccountCode"] == "")
        #expect(message.values("Variable") == ["A=1", "TRACKING_DID=74950000001"])
        #expect(message["Missing"] == nil)
    }

    @Test("bytes that are not UTF-8 are kept raw and shown lossily")
    func nonUTF8() throws {
        let bytes = Array("Event: Newchannel\r\nCallerIDName: ".utf8) + [0xC8, 0xE2, 0xE0, 0xED] + Array("\r\n\r\n".utf8)
        let message = try #require(messages(decode(bytes)).first)
        #expect(message.rawValue("CallerIDName") == [0xC8, 0xE2, 0xE0, 0xED])
        #expect(message["CallerIDName"] == String(repeating: "\u{FFFD}", count: 4))
        #expect(!message.isValidUTF8)
        #expect(message.invalidUTF8Excerpt == "CallerIDName: \\xC8\\xE2\\xE0\\xED")
        var decoder = AMIDecoder()
        decoder.feed(bytes + Array("Event: Newchannel\r\nCallerIDName: Иван Петров\r\n\r\n".utf8))
        var valid: [Bool] = []
        decoder.drain { if case .message(let m) = $0 { valid.append(m.isValidUTF8) } }
        #expect(valid == [false, true], "Cyrillic in UTF-8 is valid; CP1251 is not")
        #expect(decoder.counters.invalidUTF8 == 1)
    }

    @Test("the banner is the first line of a connection only; a colon-less line later is refused, and the session goes on")
    func bannerOnlyFirst() {
        let outputs = decode(
            "Asterisk Call Manager/9.0.0\r\nResponse: Success\r\nActionID: ct-1\r\n\r\n"
            + "this line has no colon\r\nEvent: Hangup\r\nCause: 16\r\n\r\n"
            + "Asterisk Call Manager/9.0.0\r\n\r\nEvent: Newchannel\r\n\r\n")
        #expect(outputs.count == 6)
        #expect(outputs[0] == .banner("Asterisk Call Manager/9.0.0"))
        #expect(outputs[2] == .malformed(.notAMessage(excerpt: "this line has no colon")))
        #expect(messages(outputs).map { $0.event ?? $0.response ?? "" } == ["Success", "Hangup", "Newchannel"])
        #expect(outputs[4] == .malformed(.notAMessage(excerpt: "Asterisk Call Manager/9.0.0")), "a second banner is not a new session")
        var reset = AMIDecoder()
        reset.feed(Array("Asterisk Call Manager/9.0.0\r\n".utf8))
        reset.reset()
        reset.feed(Array("Asterisk Call Manager/9.0.1\r\n".utf8))
        #expect(reset.next() == .banner("Asterisk Call Manager/9.0.1"), "a new connection has a banner again")
    }

    @Test("garbage shows in the error as printable ASCII and \\xNN, at most 48 bytes")
    func garbageExcerpt() {
        let garbage: [UInt8] = [0x00, 0x1B, 0x5B, 0x32, 0x4A, 0xC2, 0x9B, 0x5C] + Array(repeating: 0x41, count: 60)
        let outputs = decode(Array("Asterisk Call Manager/9.0.0\r\n".utf8) + garbage + Array("\r\nEvent: Hangup\r\n\r\n".utf8))
        guard case .malformed(let error) = outputs.dropFirst().first else { Issue.record("no refusal: \(outputs)"); return }
        #expect(error.excerpt == "\\x00\\x1B[2J\\xC2\\x9B\\x5C" + String(repeating: "A", count: 40) + "…")
        #expect(!error.excerpt.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value) })
        #expect(messages(outputs).map(\.event) == ["Hangup"])
    }

    @Test("garbage without a line end runs into the next message: refused once, the message still decodes")
    func garbageGluedToMessage() {
        let outputs = decode("Asterisk Call Manager/9.0.0\r\n\u{7}\u{7}junkEvent: Hangup\r\nCause: 16\r\n\r\nEvent: Newstate\r\n\r\n")
        #expect(outputs.count == 4)
        #expect(outputs[1] == .malformed(.notAMessage(excerpt: "\\x07\\x07junkEvent: Hangup")))
        #expect(messages(outputs).map(\.event) == ["Hangup", "Newstate"])
        #expect(messages(outputs).first?["Cause"] == "16")
    }

    @Test("an oversized line is one counted error, then the next message decodes")
    func oversizedLine() {
        let long = "Event: VarSet\r\nValue: " + String(repeating: "x", count: 300) + "\r\nMore: y\r\n\r\n"
        let good = "Event: Hangup\r\nCause: 16\r\n\r\n"
        let limits = AMIDecoder.Limits(maxLineBytes: 100, maxMessageBytes: 1000)
        for chunkSize in [1, 7, 64, 10_000] {
            var decoder = AMIDecoder(limits: limits)
            var outputs: [AMIDecoder.Output] = []
            let bytes = Array((long + good).utf8)
            var start = 0
            while start < bytes.count {
                decoder.feed(bytes[start..<min(bytes.count, start + chunkSize)])
                decoder.drain { outputs.append($0) }
                #expect(decoder.bufferedBytes <= limits.maxMessageBytes + chunkSize)
                start += chunkSize
            }
            #expect(outputs.first == .malformed(.lineTooLong(limit: 100)), "chunk \(chunkSize)")
            #expect(messages(outputs).map(\.event) == ["Hangup"], "chunk \(chunkSize)")
            #expect(decoder.counters.malformed == 1)
        }
    }

    @Test("an oversized message is one counted error, then the next message decodes")
    func oversizedMessage() {
        let many = "Event: Status\r\n" + (0..<100).map { "Variable: V\($0)=value\r\n" }.joined() + "\r\n"
        let outputs = decode(many + "Event: Hangup\r\n\r\n", limits: .init(maxLineBytes: 100, maxMessageBytes: 500))
        #expect(outputs.first == .malformed(.messageTooLong(limit: 500)))
        #expect(messages(outputs).map(\.event) == ["Hangup"])
    }

    @Test("an endless line without a newline never grows the buffer past the limit")
    func endlessLine() {
        var decoder = AMIDecoder(limits: .init(maxLineBytes: 1024, maxMessageBytes: 4096))
        var errors = 0
        for _ in 0..<1000 {
            decoder.feed([UInt8](repeating: UInt8(ascii: "a"), count: 1000))
            decoder.drain { if case .malformed = $0 { errors += 1 } }
            #expect(decoder.bufferedBytes <= 4096 + 1000)
        }
        #expect(errors == 1)
        decoder.feed(Array("\r\n\r\nEvent: Hangup\r\n\r\n".utf8))
        var events: [String?] = []
        decoder.drain { if case .message(let m) = $0 { events.append(m.event) } }
        #expect(events == ["Hangup"])
    }

    @Test("the filter drops unneeded events unbuilt, keeps responses and the VarSets named")
    func filter() {
        let text = """
        Event: Newexten\r\nChannel: a\r\n\r\n\
        Event: VarSet\r\nVariable: RTPAUDIOQOS\r\nValue: x\r\n\r\n\
        Event: VarSet\r\nVariable: __CT_DID\r\nValue: 74950000001\r\n\r\n\
        Response: Success\r\nActionID: ct-9\r\nPing: Pong\r\n\r\n\
        Event: Hangup\r\nCause: 16\r\n\r\n
        """
        var decoder = AMIDecoder(filter: AMIMessageFilter(events: ["varset", "HANGUP"], varSetVariables: ["CT_DID"]))
        decoder.feed(Array(text.utf8))
        var kept: [AMIMessage] = []
        decoder.drain { if case .message(let m) = $0 { kept.append(m) } }
        #expect(kept.map { $0.event ?? $0.response ?? "" } == ["VarSet", "Success", "Hangup"])
        #expect(kept[0]["Value"] == "74950000001")
        #expect(decoder.counters.skipped == 2)
    }

    @Test("command output lines without a colon are kept in order")
    func commandOutput() throws {
        let message = try #require(messages(decode("Asterisk Call Manager/9.0.0\r\nResponse: Follows\r\nPrivilege: Command\r\nsip show peers\r\n--END COMMAND--\r\n\r\n")).first)
        #expect(message.response == "Follows")
        #expect(message.values("") == ["sip show peers", "--END COMMAND--"])
    }

    @Test("actions encode as AMI lines, and a value cannot inject a header")
    func encoding() {
        let action = AMIAction("Login", id: "ct-1", [.init("Username", "calltrackd"), .init("Secret", "s\r\nAction: Originate")])
        #expect(String(buffer: action.encoded) == "Action: Login\r\nActionID: ct-1\r\nUsername: calltrackd\r\nSecret: sAction: Originate\r\n\r\n")
        #expect(!action.description.contains("Originate"), "secrets stay out of logs")
    }

    @Test("what a client sends begins with Action: the fake Asterisk reads it so, and refuses an event from a client")
    func clientSide() {
        let outputs = decode(Array("Action: Ping\r\nActionID: ct-9\r\n\r\nEvent: Hangup\r\n\r\n".utf8), sender: .client)
        #expect(messages(outputs).map { $0["Action"] } == ["Ping"], "no banner is expected from a client")
        #expect(outputs.last == .malformed(.notAMessage(excerpt: "Event: Hangup")))
    }

    @Test("decoding what the encoder wrote gives the fields back")
    func roundTrip() throws {
        let action = AMIAction("Status", id: "ct-7", [.init("Variables", "CT_DID,X"), .init("Channel", "SIP/trunk-1")])
        let message = try #require(messages(decode(Array(action.encoded.readableBytesView), sender: .client)).first)
        #expect(message["Action"] == "Status")
        #expect(message.actionID == "ct-7")
        #expect(message["Variables"] == "CT_DID,X")
    }
}
