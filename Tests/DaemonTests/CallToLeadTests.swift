import AMI
import AMIClient
import CallTrackApp
import CallTrackCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import PostgresSink
import Store
import Prometheus
import Testing
import TestSupport

/// From a visit to a lead, through real sockets: a session leased over HTTP, the recorded AMI bytes of a
/// real call to that number replayed by a fake Asterisk, the lead in SQLite and in a real PostgreSQL.
@Suite("From call to lead", .postgresCluster)
struct CallToLeadTests {
    static let trackingNumber = "+74950000001"

    static func config(_ dir: TemporaryDirectory) -> AppConfig {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.leads.minTalkSeconds = 0  // replayed at once: talk time is near zero
        config.sites = [Site(
            id: "acme", defaultNumber: try! PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: [try! PhoneNumber.e164(trackingNumber)])])]
        return config
    }

    static var quietLogger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }

    /// Phase one: the daemon without Asterisk leases the number to a visit that came from a Google ad.
    static func leaseNumber(_ config: AppConfig, clock: any WallClock = SystemClock()) async throws -> String {
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: quietLogger)
        let (port, running) = try await daemon.serving()
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(#"{"site":"acme","session_id":"sess_fromgoogle","visitor_id":"vis_buyer0001","landing_url":"https://acme.example/pumps?utm_source=google&utm_medium=cpc&utm_campaign=pumps"}"#.utf8)
        let (data, _) = try await OpenAPIConformance.data(for: request)
        running.cancel()
        _ = try? await running.value
        let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return answer?["number"] as? String ?? ""
    }

    /// Phase two: the same daemon follows Asterisk, which replays a real call to that number; returns when it ended.
    static func replayCall(_ config: AppConfig, fixture: String = "01-answered", clock: any WallClock = SystemClock()) async throws -> Daemon {
        let recorded = try AMIFixtures.load(fixture)
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: try #require(recorded.bytesAfterLogin))])
        var config = config
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: quietLogger)
        let (stored, storedContinuation) = AsyncStream.makeStream(of: CallRecord.self)
        let running = Task { try await daemon.run(onCallStored: { storedContinuation.yield($0) }) }
        _ = try await firstElement(stored, waitingFor: "the end of the replayed call (revision 3)") { $0.revision == 3 }
        running.cancel()
        _ = try? await running.value
        await fake.stop()
        return daemon
    }

    @Test("the call to a leased number becomes an exact lead with the visit's Google source; the caller is bound")
    func exactLeadInSQLite() async throws {
        let dir = TemporaryDirectory("lead")
        defer { dir.remove() }
        let config = Self.config(dir)
        #expect(try await Self.leaseNumber(config) == Self.trackingNumber)
        let daemon = try await Self.replayCall(config)

        let row = try #require(try await daemon.ledger.leads(limit: 10).first)
        #expect(row.callRevision == 3)
        let lead = try #require(row.lead)
        #expect(lead.revision == 3)
        #expect(lead.match.kind == .exact)
        #expect(lead.visitorID == "vis_buyer0001")
        #expect(lead.match.sessionID == "sess_fromgoogle")
        #expect(lead.callerText == "+79161234567")
        #expect(lead.disposition == .answered)
        #expect(lead.answeredBy == "Local/101@agents")
        #expect(lead.isLead)
        #expect(lead.lastTouch?.source == "google")
        #expect(lead.journey.map(\.sessionID) == ["sess_fromgoogle"])
        #expect(lead.match.rule.contains("one lease held the number"))
        // `calltrackd leads` shows it with its source.
        let listing = try await LeadListing.lines(config: config, limit: 5, json: false)
        #expect(listing.count == 2)
        #expect(listing.last?.contains("exact") == true)
        #expect(listing.last?.contains("google / cpc / pumps") == true)
        // The caller's phone now belongs to the visitor: matching sees it on the next call.
        let buyer = try #require(try await daemon.ledger.profile(of: "vis_buyer0001"))
        #expect(buyer.identifiers.map(\.identifier).contains(VisitorIdentifier(phone: try PhoneNumber.e164("+79161234567"))))
    }

    @Test("a call two minutes after the visit's lease ran out (inside the cooldown) is `late`: that visit, lower confidence, the gap explained")
    func lateLead() async throws {
        let dir = TemporaryDirectory("late")
        defer { dir.remove() }
        let config = Self.config(dir)
        let clock = ManualClock(at: SystemClock().now())
        #expect(try await Self.leaseNumber(config, clock: clock) == Self.trackingNumber)
        // The visitor left: no ping for the idle TTL, the lease ends; the number cools down, and the phone rings.
        clock.advance(by: PoolPolicy().idleTTL + .seconds(120))
        let daemon = try await Self.replayCall(config, clock: clock)

        let lead = try #require(try await daemon.ledger.leads(limit: 10).first?.lead)
        #expect(lead.match.kind == .late)
        #expect(lead.visitorID == "vis_buyer0001")
        #expect(lead.match.sessionID == "sess_fromgoogle")
        #expect(lead.match.confidence > 0 && lead.match.confidence < 1, "late is less sure than exact: \(lead.match.confidence)")
        #expect(lead.match.candidateCount == 1)
        #expect(lead.lastTouch?.source == "google")
        #expect(lead.isLead)
        #expect(lead.match.candidates.map(\.sessionID) == ["sess_fromgoogle"])
        #expect(lead.match.rule.contains("within the cooldown"))
    }

    @Test("the same caller weeks later, long after the lease and its cooldown: `repeat`, back to the visitor the first call bound")
    func repeatLead() async throws {
        let dir = TemporaryDirectory("repeat-e2e")
        defer { dir.remove() }
        let config = Self.config(dir)
        let clock = ManualClock(at: SystemClock().now())
        #expect(try await Self.leaseNumber(config, clock: clock) == Self.trackingNumber)
        _ = try await Self.replayCall(config, fixture: "01-answered", clock: clock)  // exact; binds +79161234567
        clock.advance(by: .seconds(14 * 86_400))
        let daemon = try await Self.replayCall(config, fixture: "10-md5-login-answered", clock: clock)  // same caller, same number

        let rows = try await daemon.ledger.leads(limit: 10).compactMap(\.lead)
        #expect(rows.map(\.match.kind) == [.repeat, .exact])
        let again = rows[0]
        let first = rows[1]
        #expect(again.visitorID == "vis_buyer0001")
        #expect(again.match.sessionID == "sess_fromgoogle", "attributed to the visitor's latest session")
        #expect(again.repeatOf == first.callID, "inside the 30-day window: the open lead repeats, no new deal")
        #expect(!again.isLead)
        #expect(again.lastTouch?.source == "google")
    }

    @Test("a static number (a billboard) gives a `static` lead with the number's own source; a pool number nobody held, `unmatched`")
    func staticAndUnmatchedLeads() async throws {
        let dir = TemporaryDirectory("static-e2e")
        defer { dir.remove() }
        var config = Self.config(dir)
        config.sites[0].pools = [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000002")])]
        config.sites[0].staticNumbers = [StaticNumber(
            number: try PhoneNumber.e164(Self.trackingNumber),
            source: MarketingSource(utmSource: "billboard", utmMedium: "offline", utmCampaign: "mkad-km-41"))]
        _ = try await Self.replayCall(config, fixture: "01-answered")   // to +74950000001, the billboard
        let daemon = try await Self.replayCall(config, fixture: "02-no-answer")  // to +74950000002, never leased

        let rows = try await daemon.ledger.leads(limit: 10)
        let byKind = Dictionary(uniqueKeysWithValues: rows.compactMap(\.lead).map { ($0.match.kind, $0) })
        let billboard = try #require(byKind[.static])
        #expect(billboard.match.confidence == 1)
        #expect(billboard.firstTouch?.source == "billboard")
        #expect(billboard.trackingNumber.e164 == Self.trackingNumber)
        let unknown = try #require(byKind[.unmatched])
        #expect(unknown.visitorID == nil)
        #expect(unknown.trackingNumber.e164 == "+74950000002")
        #expect(unknown.callerText == "+79031112233", "the carrier's 8-prefixed caller, normalised")
        #expect(unknown.disposition == .noAnswer)
        #expect(unknown.isLead, "a missed call from a real number is a lead to call back")
    }

    @Test("with PostgreSQL configured the lead arrives there, newest revision, and LISTEN hears it")
    func leadReachesPostgres() async throws {
        let cluster = try #require(PostgresCluster.shared)
        let dir = TemporaryDirectory("lead-pg")
        defer { dir.remove() }
        var config = Self.config(dir)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.postgres?.schema = "calltrack_e2e"
        config.postgres?.channel = "calltrack_e2e"
        #expect(try await Self.leaseNumber(config) == Self.trackingNumber)

        let listener = PostgresConnection(cluster.connectionString(), logger: Self.quietLogger)
        defer { listener.close() }
        try await listener.listen("calltrack_e2e")
        let frozen = config
        // The daemon stops right after the call ended; what it delivered by then, or delivers at its next start
        // (restarted without Asterisk while the row is not there: a stop can come before a delivery), must reach
        // PostgreSQL, and LISTEN must hear it. The notifications wait in their stream until read, at the end.
        _ = try await Self.replayCall(frozen)
        func read() async throws -> [String?] {
            try await listener.query(
                "SELECT call_id, match_kind, session_id, revision::text, disposition FROM calltrack_e2e.lead").rows.first ?? []
        }
        var row = try await read()
        var restarts = 0
        while row.count != 5 || row[3] != "3", restarts < 5 {
            restarts += 1
            var restart = config
            restart.ami = nil
            let daemon = try await Daemon.open(config: restart, registry: PrometheusCollectorRegistry(), logger: Self.quietLogger)
            let running = Task { try await daemon.run() }
            let deadline = ContinuousClock.now + .seconds(30)
            while row.count != 5 || row[3] != "3", ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))  // PostgreSQL is another process: poll it, bounded
                row = try await read()
            }
            running.cancel()
            _ = try? await running.value
        }
        let heard = try await firstElement(listener.notifications, within: .seconds(10), waitingFor: "NOTIFY calltrack_e2e with the call id").payload
        #expect(heard == row.first ?? nil)
        #expect(row.count == 5)
        #expect(row[1] == "exact")
        #expect(row[2] == "sess_fromgoogle")
        #expect(row[3] == "3")
        #expect(row[4] == "answered")
    }
}

@Suite("Leads catch up after a stop between a call and its lead")
struct LeadCatchUpTests {
    @Test("a call stored without its lead (the daemon was killed in between) gets its lead at the next start")
    func catchUp() async throws {
        let dir = TemporaryDirectory("catchup")
        defer { dir.remove() }
        let config = CallToLeadTests.config(dir)
        #expect(try await CallToLeadTests.leaseNumber(config) == CallToLeadTests.trackingNumber)
        // Store the call the way the ingest does, but without the lead desk: as if killed right after.
        let fixture = try AMIFixtures.load("01-answered")
        var assembler = CallAssembler()
        var decoder = AMIDecoder()
        var events: [CallEvent] = []
        decoder.feed(fixture.bytes)
        while let output = decoder.next() {
            if case .message(let message) = output { assembler.process(message, arrivedAt: SystemClock().now(), into: &events) }
        }
        let records = events.map(\.record)
        #expect(records.map(\.revision) == [1, 2, 3])
        let first = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let writer = Task { await first.store.run() }
        try await first.store.apply(records.map { .call($0) })
        writer.cancel()
        #expect(try await first.ledger.leads(limit: 5).isEmpty)

        let restarted = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let lead = try #require(try await restarted.ledger.leads(limit: 5).first?.lead)
        #expect(lead.revision == 3)
        #expect(lead.match.kind == .exact)
        #expect(try await restarted.ledger.callsBehind().isEmpty)
    }

    @Test("stored calls to numbers no site tracks do not hold up the next start, nor hide a call behind them that needs its lead")
    func untrackedCallsAtStart() async throws {
        let dir = TemporaryDirectory("catchup-untracked")
        defer { dir.remove() }
        let config = CallToLeadTests.config(dir)
        let t = SystemClock().now()
        let untracked = (0..<30).map { n in
            CallRecord(id: "untracked.\(n)", revision: 1, trackingNumber: try! PhoneNumber.e164("+7499000\(String(format: "%04d", n))"),
                       dialled: "7499000\(String(format: "%04d", n))", caller: try! PhoneNumber.e164("+79161234567"),
                       callerRaw: "+79161234567", callerWithheld: false, startedAt: t - .seconds(3600) + .seconds(Int64(n)))
        }
        let tracked = CallRecord(id: "tracked.1", revision: 1, trackingNumber: try PhoneNumber.e164(CallToLeadTests.trackingNumber),
                                 dialled: "74950000001", caller: try PhoneNumber.e164("+79161234567"), callerRaw: "+79161234567",
                                 callerWithheld: false, startedAt: t)
        let first = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let writer = Task { await first.store.run() }
        try await first.store.apply((untracked + [tracked]).map { .call($0) })
        // Read in pages of 10: the tracked call is behind three pages of calls that never get a lead.
        #expect(await first.leads.catchUp(pageSize: 10) == 1)
        #expect(await first.leads.catchUp(pageSize: 10) == 0, "the untracked calls are stored as they are: nothing to do for them")
        writer.cancel()

        // A start with them stored opens (it used to wait forever storing them again before the store's writer ran).
        let restarted = try await within(.seconds(30), waitingFor: "the daemon to open with untracked calls stored") {
            try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        }
        #expect(try await restarted.ledger.leads(limit: 5).map(\.callID) == ["tracked.1"])
    }
}

@Suite("Concurrent calls on one shared number")
struct CollisionLeadTests {
    @Test("two callers on a number two sessions share: both leads are `shared`, two candidates, each a session that held it")
    func collision() async throws {
        let dir = TemporaryDirectory("collision")
        defer { dir.remove() }
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.leads.minTalkSeconds = 0
        config.sites = [Site(
            id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000006")], policy: PoolPolicy(onExhaustion: .share))])]
        // Phase one: two visits hold the one number (the pool shares when full).
        let leasing = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await leasing.serving()
        #expect(try await VisitorMergeTests.allocate(port: port, session: "sess_first0001", visitor: "vis_first0001", campaign: "a") == "+74950000006")
        #expect(try await VisitorMergeTests.allocate(port: port, session: "sess_second001", visitor: "vis_second001", campaign: "b") == "+74950000006")
        running.cancel()
        _ = try? await running.value

        // Phase two: the recorded collision — two callers, 100 ms apart, interleaved in the stream.
        let recorded = try AMIFixtures.load("04-collision")
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: try #require(recorded.bytesAfterLogin))])
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (stored, storedContinuation) = AsyncStream.makeStream(of: CallRecord.self)
        let following = Task { try await daemon.run(onCallStored: { storedContinuation.yield($0) }) }
        _ = try await collect(2, from: stored, waitingFor: "an ended call (revision 3)") { $0.revision == 3 }
        following.cancel()
        _ = try? await following.value
        await fake.stop()

        let leads = try await daemon.ledger.leads(limit: 10)
        #expect(leads.count == 2)
        for row in leads {
            let lead = try #require(row.lead)
            #expect(lead.match.kind == .shared)
            #expect(lead.match.candidateCount == 2)
            #expect(abs(lead.match.confidence - 0.5) < 1e-9)
            #expect(["sess_first0001", "sess_second001"].contains(lead.match.sessionID ?? ""))
            #expect(Set(lead.match.candidates.map(\.sessionID)) == ["sess_first0001", "sess_second001"])
        }
    }
}
