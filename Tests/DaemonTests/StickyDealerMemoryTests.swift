import AGI
import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Logging
import Prometheus
import Store
import Testing
import TestSupport

/// The daemon's FastAGI answer for a returning caller comes from the sticky dealers held in memory, kept by the
/// lead path as calls are stored; erasing the caller takes them out, and the next call is routed afresh.
@Suite("FastAGI: the sticky dealer from memory, forgotten with the person")
struct StickyDealerMemoryTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let number = try! PhoneNumber.e164("+74950000001")
    static let caller = try! PhoneNumber.e164("+74951234567")

    @Test("a returning caller gets rule sticky without a store read; after erasing them, their next call is not sticky",
          .timeLimit(.minutes(2)))
    func stickyFromMemoryUntilErased() async throws {
        let dir = TemporaryDirectory("agi-sticky-memory")
        defer { dir.remove() }
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.sites = [Site(id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"), pools: [Pool(id: "main", numbers: [Self.number])])]
        config.routing = RoutingTable(book: try DealerBook([
            Dealer(id: "north", regions: [try PhoneRegion.parse("+7 495")], weight: 5, targets: ["PJSIP/dealer-12"]),
            Dealer(id: "south", regions: [try PhoneRegion.parse("+7 495")], weight: 1, targets: ["PJSIP/dealer-13"]),
        ]))
        let clock = ManualClock(at: Self.t)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: logger)
        let writer = Task { await daemon.store.run() }
        defer { writer.cancel() }
        // As the daemon's `StickyDealerLoader` does at start: an empty store, then the lead path keeps it.
        try await daemon.store.loadStickyDealers()
        let sticky = daemon.store.stickyDealers
        #expect(sticky.answer(for: Self.caller, before: Self.t) == .none)

        // Last week: north was chosen, south's failover leg answered: the lead is south's.
        await Self.call(daemon, id: "1799395200.1", at: Self.t - .seconds(7 * 86_400), answeredBy: "PJSIP/dealer-13")
        #expect(try await daemon.ledger.lead("1799395200.1")?.lead?.dealerID == "south")
        #expect(sticky.answer(for: Self.caller, before: Self.t) == .dealer("south"), "the lead path put it in memory")

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

        // Today the caller dials again: routed to south, and the lead takes the FastAGI decision (rule sticky).
        let returning = try await Self.ask(port, id: "1800000000.7")
        #expect(returning.variables["CT_DEALER"] == "south", "\(returning.variables)")
        await Self.call(daemon, id: "1800000000.7", at: Self.t, answeredBy: "PJSIP/dealer-13")
        let lead = try #require(try await daemon.ledger.lead("1800000000.7")?.lead)
        #expect(lead.dealerID == "south" && lead.dealerRule == .sticky, "\(lead.dealerReason ?? "-")")

        // They ask to be forgotten: memory forgets them with the store.
        _ = clock.advance(by: .seconds(3600))
        let erased = try await daemon.ledger.erase(.phone(Self.caller), by: "test", at: clock.now())
        guard case .erased = erased else {
            Issue.record("not erased: \(erased)")
            return
        }
        #expect(sticky.answer(for: Self.caller, before: clock.now()) == .none)
        #expect(try await daemon.ledger.stickyDealer(caller: Self.caller, before: clock.now()) == nil)

        // Their next call is routed by region and weight, not back to south as a returning caller.
        let afresh = try await Self.ask(port, id: "1800003600.9")
        await Self.call(daemon, id: "1800003600.9", at: clock.now(), answeredBy: nil)
        let next = try #require(try await daemon.ledger.lead("1800003600.9")?.lead)
        #expect(next.dealerRule != .sticky, "\(next.dealerReason ?? "-")")
        #expect(afresh.variables["CT_DEALER"] == next.dealerID, "the lead took FastAGI's decision")
    }

    /// The dialplan's request for call `id` from the caller, with the Linkedid as argument 1.
    static func ask(_ port: Int, id: String) async throws -> AsteriskAGI.Exchange {
        let head = AsteriskAGI.environment(uniqueID: id, callerID: "84951234567", arguments: [id, "74950000001"])
        return try await within(.seconds(60), waitingFor: "the routing answer for \(id)") {
            try await AsteriskAGI.session(port: port, head: Array(head.utf8))
        }
    }

    /// A call from the caller as AMI shows it: ringing, then (answered by `answeredBy` or not) ended.
    static func call(_ daemon: Daemon, id: String, at start: Timestamp, answeredBy: String?) async {
        var call = CallRecord(id: id, revision: 1, trackingNumber: number, dialled: "74950000001", caller: caller,
                              callerRaw: caller.e164, callerWithheld: false, startedAt: start)
        await daemon.leads.handle(call)
        call.revision = 3
        if let answeredBy {
            call.answeredAt = start + .seconds(20)
            call.answeredBy = answeredBy
            call.talkSeconds = 180
            call.disposition = "answered"
        } else {
            call.disposition = "no_answer"
        }
        call.endedAt = start + .seconds(200)
        await daemon.leads.handle(call)
    }
}
