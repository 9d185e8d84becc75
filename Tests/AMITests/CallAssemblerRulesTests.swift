import AMI
import CallTrackCore
import Testing
import TestSupport

/// Rules of the assembler that the transcripts do not all exercise.
@Suite("Call assembler rules")
struct CallAssemblerRulesTests {
    private let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    private func inbound(_ event: String, _ extra: (String, String)...) -> AMIMessage {
        AMIMessage([("Event", event), ("Channel", "PJSIP/trunk-0000002a"), ("Context", "from-trunk"), ("Exten", "74950000001"),
                    ("CallerIDNum", "89161234567"), ("CallerIDName", "<unknown>"), ("Uniqueid", "1.1"), ("Linkedid", "1.1")] + extra)
    }

    @Test("the tracking variable names the number when the dialplan sets it (sip-agents set __TRACKING_DID)",
          arguments: FixtureAssemblyTests.withCalls.filter { $0.hasPrefix("sip-agents/") && !$0.contains("resync") })
    func trackingVariable(name: String) throws {
        let fixture = try AMIFixtures.load(name)
        var pipeline = Pipeline(settings: CallAssemblerSettings(trackingVariable: "TRACKING_DID"))
        pipeline.feed(fixture.bytes)
        #expect(mismatches(pipeline.ended, fixture.expectation) == [])
        for case .started(let call) in pipeline.events {
            #expect(call.trackingNumber != nil, "started only once the number is known")
        }
    }

    @Test("a recording named by MIXMONITOR_FILENAME is kept as a reference")
    func recording() {
        var assembler = CallAssembler()
        var events: [CallEvent] = []
        assembler.process(inbound("Newchannel"), arrivedAt: t0, into: &events)
        assembler.process(AMIMessage([("Event", "VarSet"), ("Uniqueid", "1.1"), ("Linkedid", "1.1"),
                                      ("Variable", "MIXMONITOR_FILENAME"), ("Value", "/var/spool/asterisk/monitor/1.1.wav")]), arrivedAt: t0, into: &events)
        assembler.process(inbound("Hangup", ("Cause", "16")), arrivedAt: t0 + .seconds(5), into: &events)
        #expect(events.last?.call.recording == "/var/spool/asterisk/monitor/1.1.wav")
        #expect(events.last?.call.callerName == nil, "<unknown> is no name")
        #expect(events.last?.call.caller == .number(try! PhoneNumber.e164("+79161234567")))
    }

    @Test("withheld, empty and unparsable callers are kept as such", arguments: [
        ("anonymous", Caller.withheld("anonymous")), ("", Caller.withheld("")), ("<unknown>", Caller.withheld("<unknown>")),
        ("sip-user", Caller.unparsable("sip-user")), ("8 (903) 111-22-33", Caller.number(try! PhoneNumber.e164("+79031112233"))),
    ])
    func callers(raw: String, expected: Caller) {
        #expect(Caller(callerIDNum: raw, defaultCountry: .ru) == expected)
    }

    @Test("channels outside the inbound context and legs of other calls do not make calls")
    func notInbound() {
        var assembler = CallAssembler()
        var events: [CallEvent] = []
        assembler.process(AMIMessage([("Event", "Newchannel"), ("Context", "internal"), ("Exten", "102"), ("Uniqueid", "2.1"), ("Linkedid", "2.1")]), arrivedAt: t0, into: &events)
        assembler.process(AMIMessage([("Event", "Newchannel"), ("Context", "from-trunk"), ("Exten", "74950000001"), ("Uniqueid", "2.2"), ("Linkedid", "2.1")]), arrivedAt: t0, into: &events)
        assembler.process(AMIMessage([("Event", "Hangup"), ("Uniqueid", "3.3"), ("Linkedid", "3.3"), ("Cause", "16")]), arrivedAt: t0, into: &events)
        #expect(events.isEmpty)
        #expect(assembler.callsInProgress == 0)
    }

    @Test("Timestamp: headers set the times; their absence leaves arrival times")
    func timestamps() {
        var assembler = CallAssembler()
        var events: [CallEvent] = []
        assembler.process(inbound("Newchannel", ("Timestamp", "1795439846.894089")), arrivedAt: t0, into: &events)
        assembler.process(inbound("Hangup", ("Cause", "17")), arrivedAt: t0 + .seconds(3), into: &events)
        let call = events.last!.call
        #expect(call.ringStartedAt == Timestamp(microsecondsSinceEpoch: 1_795_439_846_894_089))
        #expect(call.endedAt == t0 + .seconds(3))
        #expect(call.disposition == .busy, "cause 17 without a DialEnd is busy")
    }

    @Test("channel names lose their instance suffix")
    func partyNames() {
        var assembler = CallAssembler()
        var events: [CallEvent] = []
        assembler.process(inbound("Newchannel"), arrivedAt: t0, into: &events)
        assembler.process(inbound("DialEnd", ("DestChannel", "PJSIP/dealer-0000002b"), ("DestUniqueid", "1.2"), ("DialStatus", "ANSWER")), arrivedAt: t0 + .seconds(2), into: &events)
        #expect(events.last == .answered(events.last!.call))
        #expect(events.last?.call.answeredBy?.party == "PJSIP/dealer")
        #expect(events.last?.call.ringSeconds == 2)
    }
}

@Suite("Resync rules")
struct ResyncRulesTests {
    private let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    private func row(_ uniqueid: String, context: String, _ extra: (String, String)...) -> AMIMessage {
        AMIMessage([("Event", "Status"), ("ActionID", "ct-3"), ("Channel", "PJSIP/trunk-1"), ("ChannelStateDesc", "Up"),
                    ("Context", context), ("Exten", "102"), ("CallerIDNum", "+79161234567"),
                    ("Uniqueid", uniqueid), ("Linkedid", "1.1"), ("Seconds", "30")] + extra)
    }

    /// An assembler that has seen one call start ringing on the trunk (Linkedid 1.1), and its events.
    private func ringingCall() -> (CallAssembler, [CallEvent]) {
        var assembler = CallAssembler()
        var events: [CallEvent] = []
        assembler.process(AMIMessage([("Event", "Newchannel"), ("Channel", "PJSIP/trunk-1"), ("Context", "from-trunk"),
                                      ("Exten", "74950000001"), ("CallerIDNum", "+79161234567"), ("Uniqueid", "1.1"), ("Linkedid", "1.1")]),
                          arrivedAt: t0, into: &events)
        return (assembler, events)
    }

    @Test("a known call listed in another context (after a transfer) is still in progress")
    func transferredCallSurvivesResync() {
        var (assembler, events) = ringingCall()
        assembler.beginResync()
        assembler.process(row("1.1", context: "internal"), arrivedAt: t0 + .seconds(30), into: &events)
        assembler.finishResync(at: t0 + .seconds(30), into: &events)
        #expect(assembler.callsInProgress == 1)
        #expect(!events.contains { if case .ended = $0 { true } else { false } })
    }

    @Test("a ringing call that ended while we were away has an unknown outcome, not an ordinary no answer")
    func ringingCallClosedByResyncIsUnknown() {
        var (assembler, events) = ringingCall()
        assembler.beginResync()
        assembler.finishResync(at: t0 + .seconds(30), into: &events)
        guard case .ended(let call) = events.last else { Issue.record("not closed: \(events)"); return }
        #expect(call.endedWhileDisconnected)
        #expect(call.disposition == .unknown)
        #expect(call.record(revision: 3).disposition == "unknown", "as stored, shown by the calls API and sent with the lead")
    }

    @Test("an unknown call is picked up from the tracking variable even outside the inbound context")
    func unknownCallByVariable() {
        var assembler = CallAssembler(settings: CallAssemblerSettings(trackingVariable: "CT_DID"))
        var events: [CallEvent] = []
        assembler.beginResync()
        assembler.process(row("1.1", context: "internal"), arrivedAt: t0, into: &events)
        #expect(events.isEmpty, "an internal call is not ours")
        assembler.process(row("1.1", context: "tracked-calls", ("Variable", "CT_DID=74950000002")), arrivedAt: t0, into: &events)
        assembler.finishResync(at: t0, into: &events)
        guard case .started(let call) = events.first else { Issue.record("no call: \(events)"); return }
        #expect(call.trackingNumber?.e164 == "+74950000002")
        #expect(call.resumed)
        #expect(call.ringStartedAt == t0 - .seconds(30))
    }
}
