import AMI
import AMIClient
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import Metrics
import Prometheus
import Store
import Testing
import TestSupport

/// Dealer routing in one process, through real sockets: recorded AMI transcripts of real calls, their caller
/// renumbered into Saint Petersburg (+7 812), replayed by a fake Asterisk to the whole daemon. The answered call
/// becomes a lead for the Saint Petersburg dealer, whose counters move; of two missed calls, the one the dealer
/// called back (an outbound call from its phone to the caller, on AMI) is called back, the other is not.
@Suite("Dealer routing end to end: a real transcript routed to the caller's regional dealer and counted")
struct DealerEndToEndTests {
    static let answeredCaller = "+78121234567"
    static let missedCaller = "+78125550000"
    static let calledBackCaller = "+78125551111"

    static func config(_ dir: TemporaryDirectory) throws -> AppConfig {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.leads.minTalkSeconds = 0  // replayed at once: talk time is near zero
        config.sites = [Site(
            id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001"), try PhoneNumber.e164("+74950000002")])])]
        // The transcripts' agents are the Saint Petersburg dealer's lines; Moscow's are elsewhere.
        config.routing = RoutingTable(book: try DealerBook([
            Dealer(id: "moscow", regions: [try PhoneRegion.parse("+7 495")], weight: 5, targets: ["PJSIP/moscow-1"]),
            Dealer(id: "spb", regions: [try PhoneRegion.parse("+7 812")], targets: ["Local/101@agents", "Local/201@agents", "SIP/201"]),
        ]))
        config.callbackWindow = .seconds(1800)
        return config
    }

    /// A recorded transcript after the login, its caller's digits and call ids replaced, without its closing `Goodbye`.
    static func renumbered(_ name: String, digits: (String, String), ids: (String, String)? = nil) throws -> String {
        var text = String(decoding: try #require(try AMIFixtures.load(name).bytesAfterLogin), as: UTF8.self)
        #expect(text.contains(digits.0), "the transcript has the caller \(digits.0)")
        text = text.replacingOccurrences(of: digits.0, with: digits.1)
        if let ids { text = text.replacingOccurrences(of: ids.0, with: ids.1) }
        if let goodbye = text.range(of: "Response: Goodbye\r\n") { text = String(text[..<goodbye.lowerBound]) }
        return text
    }

    /// The dealer's phone SIP/201 calls the caller back: a channel it starts outside the inbound context.
    static func callback(to national: String) -> String {
        [
            "Event: Newchannel", "Privilege: call,all", "Channel: SIP/201-0000001f", "ChannelState: 0", "ChannelStateDesc: Down",
            "CallerIDNum: 201", "CallerIDName: Dealer SPb", "ConnectedLineNum: <unknown>", "ConnectedLineName: <unknown>",
            "Language: en", "AccountCode: ", "Context: agents", "Exten: \(national)", "Priority: 1",
            "Uniqueid: 1795440000.90", "Linkedid: 1795440000.90", "",
        ].joined(separator: "\r\n") + "\r\n"
    }

    @Test("a caller from +7 812 gets the Saint Petersburg dealer; offered, answered and missed-not-called-back count as they should",
          .timeLimit(.minutes(3)))
    func transcriptRoutedAndCounted() async throws {
        let dir = TemporaryDirectory("dealer-e2e")
        defer { dir.remove() }
        var config = try Self.config(dir)
        let replay = try Self.renumbered("01-answered", digits: ("9161234567", "8121234567"))
            + Self.renumbered("02-no-answer", digits: ("9031112233", "8125550000"))
            + Self.renumbered("02-no-answer", digits: ("9031112233", "8125551111"), ids: ("1795439572.", "1795439999."))
            + Self.callback(to: "88125551111")
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: Array(replay.utf8))])
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        let metrics = RecordingMetrics()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let daemon = try await withMetricsFactory(metrics) {
            try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        }
        let (stored, storedSink) = AsyncStream.makeStream(of: CallRecord.self)
        let (outbound, outboundSink) = AsyncStream.makeStream(of: OutboundCall.self)
        let running = Task {
            try await daemon.run(onCallStored: { storedSink.yield($0) }, onOutboundCall: { outboundSink.yield($0) })
        }
        defer { running.cancel() }
        let ended = Locked<Set<String>>([])
        _ = try await firstElement(stored, within: .seconds(60), waitingFor: "the three replayed calls' ends") { record in
            ended.withLock { ended in
                if record.revision == 3 { ended.insert(record.id) }
                return ended.count == 3
            }
        }
        let callback = try await firstElement(outbound, within: .seconds(60), waitingFor: "the dealer's callback")
        #expect(callback.device == "SIP/201" && callback.to.e164 == Self.calledBackCaller)
        running.cancel()
        _ = try? await running.value
        await fake.stop()

        // The answered call: a lead for the caller's regional dealer, with the reason.
        let leads = try await daemon.ledger.leads(limit: 10).compactMap(\.lead)
        let answered = try #require(leads.first { $0.callerText == Self.answeredCaller })
        #expect(answered.dealerID == "spb")
        #expect(answered.dealerRule == .area)
        #expect(answered.dealerReason?.contains("region +7 812 → spb") == true, "\(answered.dealerReason ?? "-")")
        #expect(answered.disposition == .answered && answered.answeredBy == "Local/101@agents")
        #expect(leads.filter { $0.dealerID == "spb" }.count == 3, "the two missed callers are from +7 812 too")
        #expect(daemon.routing.busyLines().isEmpty, "each hangup gave its line back")

        // Its counters moved: Prometheus, and the stored figures an hour later (the windows have closed).
        #expect(metrics.value("calltrackd_dealer_calls_total", [("dealer", "spb"), ("outcome", "offered")]) == 3)
        #expect(metrics.value("calltrackd_dealer_calls_total", [("dealer", "spb"), ("outcome", "answered")]) == 1)
        #expect(metrics.value("calltrackd_dealer_calls_total", [("dealer", "spb"), ("outcome", "missed")]) == 2)
        #expect(metrics.value("calltrackd_dealer_calls_total", [("dealer", "moscow"), ("outcome", "offered")]) == nil)
        let now = SystemClock().now()
        let stats = try await daemon.dealerStatsDesk.dealerStats(from: now - .seconds(3600), to: now + .seconds(60),
                                                                          at: now + .seconds(3600))
        let spb = try #require(stats.first { $0.dealer == "spb" })
        #expect(spb.offered == 3 && spb.answered == 1 && spb.missed == 2)
        #expect(spb.missedNotCalledBack == 1, "the first missed caller was never called back")
        #expect(spb.calledBack == 1, "the second was, from the dealer's phone, within the window")
        #expect(spb.answerSecondsP50 != nil && spb.leads >= 1)
        // The callback is on the called-back caller's lead too (a new revision every destination gets), not on the other's.
        let calledBack = try #require(leads.first { $0.callerText == Self.calledBackCaller })
        #expect(calledBack.calledBackAt == callback.at, "\(String(describing: calledBack.calledBackAt))")
        let neverCalledBack = leads.filter { $0.dealerID == "spb" && $0.disposition != .answered && $0.callerText != Self.calledBackCaller }
        #expect(neverCalledBack.count == 1 && neverCalledBack.allSatisfy { $0.calledBackAt == nil })
        let moscow = try #require(stats.first { $0.dealer == "moscow" })
        #expect(moscow.offered == 0)

        // `calltrackd route` from a terminal finds the caller's dealer of last time in the leads: sticky, even with a
        // Moscow dealer that outranks spb by weight.
        let file = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.path)" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: ["+74950000001", "+74950000002"] }
            dealers: [moscow, spb]
            dealer:
              moscow: { weight: 5, targets: ["PJSIP/moscow-1"] }
              spb: { regions: ["+7 812"], targets: ["Local/101@agents"] }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let route = try await runProgram([DaemonProcess.executable.path, "route", "--config", file, "--site", "acme",
                                          "--caller", Self.answeredCaller, "--json"])
        let decision = try JSONSerialization.jsonObject(with: Data(route.output.utf8)) as? [String: Any]
        #expect(decision?["dealer"] as? String == "spb", "\(route.output)")
        #expect(decision?["rule"] as? String == "sticky", "\(route.output)")
        let stranger = try await runProgram([DaemonProcess.executable.path, "route", "--config", file, "--site", "acme",
                                             "--caller", "+74951234567", "--json"])
        #expect((try JSONSerialization.jsonObject(with: Data(stranger.output.utf8)) as? [String: Any])?["rule"] as? String != "sticky",
                "\(stranger.output)")
    }
}
