import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Logging
import Prometheus
import Store
import Testing
import TestSupport

/// The daemon's FastAGI server and its lead path share one routing desk: the dialplan's request is answered with
/// the dealer who handled the caller before (read from the store through the identity graph), and the lead of
/// that call (same Linkedid) takes the decision FastAGI made instead of deciding again.
@Suite("FastAGI and the lead path: one decision per call, the sticky dealer first")
struct FastAGILeadTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let number = try! PhoneNumber.e164("+74950000001")
    static let caller = try! PhoneNumber.e164("+74951234567")

    /// A daemon in `dir` with one tracked number and two dealers for +7 495: north (weight 5) and south (weight 1).
    static func twoDealerDaemon(_ dir: TemporaryDirectory, clock: ManualClock) async throws -> Daemon {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.sites = [Site(id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"), pools: [Pool(id: "main", numbers: [number])])]
        config.routing = RoutingTable(book: try DealerBook([
            Dealer(id: "north", regions: [try PhoneRegion.parse("+7 495")], weight: 5, targets: ["PJSIP/dealer-12"]),
            Dealer(id: "south", regions: [try PhoneRegion.parse("+7 495")], weight: 1, targets: ["PJSIP/dealer-13"]),
        ]))
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: logger)
    }

    @Test("a returning caller is routed live to the dealer who answered them last time; the lead says sticky, one line held",
          .timeLimit(.minutes(2)))
    func stickyOverFastAGIAndTheLeadTakesIt() async throws {
        let dir = TemporaryDirectory("agi-lead")
        defer { dir.remove() }
        let clock = ManualClock(at: Self.t)
        let daemon = try await Self.twoDealerDaemon(dir, clock: clock)
        let writer = Task { await daemon.store.run() }
        defer { writer.cancel() }

        // Last week: the call went to north (weight 5), south's failover leg answered it.
        var first = CallRecord(id: "1799395200.1", revision: 1, trackingNumber: Self.number, dialled: "74950000001", caller: Self.caller,
                               callerRaw: Self.caller.e164, callerWithheld: false, startedAt: Self.t - .seconds(7 * 86_400))
        await daemon.leads.handle(first)
        first.revision = 3
        first.answeredAt = first.startedAt + .seconds(20)
        first.answeredBy = "PJSIP/dealer-13"
        first.endedAt = first.startedAt + .seconds(200)
        first.disposition = "answered"
        first.talkSeconds = 180
        await daemon.leads.handle(first)
        #expect(try await daemon.ledger.lead(first.id)?.lead?.dealerID == "south")

        var configuration = FastAGIConfiguration()
        configuration.port = 0
        configuration.deadline = .seconds(10)
        configuration.headTimeout = .seconds(30)
        configuration.replyTimeout = .seconds(30)
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = daemon.fastAGIServer(configuration, onListening: { portSink.yield($0) })
        let running = Task { try await server.run() }
        defer { running.cancel() }
        let port = try await firstElement(ports, within: .seconds(30), waitingFor: "the FastAGI port")

        // Today the same caller dials again; the dialplan asks with the Linkedid as argument 1.
        let head = AsteriskAGI.environment(uniqueID: "1800000000.7", callerID: "84951234567",
                                           arguments: ["1800000000.7", "74950000001"])
        let exchange = try await within(.seconds(60), waitingFor: "the routing answer") {
            try await AsteriskAGI.session(port: port, head: Array(head.utf8))
        }
        #expect(exchange.variables["CT_DEALER"] == "south", "\(exchange.variables)")
        #expect(exchange.variables["CT_DIAL"] == "PJSIP/dealer-13")
        #expect(exchange.variables["CT_LEAD"] == "1800000000.7")

        // AMI then shows the call ringing: its lead takes the FastAGI decision.
        await daemon.leads.handle(CallRecord(id: "1800000000.7", revision: 1, trackingNumber: Self.number, dialled: "74950000001",
                                             caller: Self.caller, callerRaw: Self.caller.e164, callerWithheld: false, startedAt: Self.t))
        let lead = try #require(try await daemon.ledger.lead("1800000000.7")?.lead)
        #expect(lead.dealerID == "south" && lead.dealerRule == .sticky)
        #expect(lead.dealerReason?.hasPrefix("sticky → south") == true, "\(lead.dealerReason ?? "-")")
        #expect(daemon.routing.busyLines() == ["south": 1], "one decision, one line")
    }
}
