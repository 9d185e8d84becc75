import CallTrackApp
import CallTrackCore
import Foundation
import PostgresSink
import Store
import Prometheus
import Testing
import TestSupport

/// A buyer calls, calls again while the first call is still going, and the first call turns out junk (a few
/// seconds of talk). The second call must not stay the repeat of a call that is no lead: it becomes the lead,
/// in SQLite and in PostgreSQL, and later repeats follow it.
@Suite("A repeat whose lead turned junk is decided again", .postgresCluster)
struct RepeatRedecisionTests {
    static let caller = try! PhoneNumber.e164("+79161234567")
    static let t0 = SystemClock().now() - .seconds(3_600)

    static func config(_ dir: TemporaryDirectory) -> AppConfig {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.leads.minTalkSeconds = 10
        config.sites = [Site(id: "pumps", defaultNumber: try! PhoneNumber.e164("+74950000100"), staticNumbers: [
            StaticNumber(number: try! PhoneNumber.e164("+74950000101"), source: MarketingSource(utmSource: "print"))], dealer: "north")]
        return config
    }

    static func ringing(_ id: String, at t: Timestamp, caller: PhoneNumber = caller) -> CallRecord {
        CallRecord(id: id, revision: 1, trackingNumber: try! PhoneNumber.e164("+74950000101"), dialled: "74950000101", caller: caller,
                   callerRaw: caller.e164, callerWithheld: false, startedAt: t)
    }

    static func answered(_ ringing: CallRecord, talk: Double) -> CallRecord {
        var call = ringing
        call.revision = 3
        call.answeredAt = ringing.startedAt + .seconds(5)
        call.endedAt = call.answeredAt! + .milliseconds(Int64(talk * 1000))
        call.disposition = "answered"
        call.ringSeconds = 5
        call.talkSeconds = talk
        return call
    }

    static func missed(_ ringing: CallRecord, _ disposition: String) -> CallRecord {
        var call = ringing
        call.revision = 3
        call.endedAt = ringing.startedAt + .seconds(40)
        call.disposition = disposition
        call.ringSeconds = 40
        return call
    }

    static func verdicts(_ daemon: Daemon, _ ids: [String]) async throws -> [String: Lead] {
        var result: [String: Lead] = [:]
        for id in ids {
            let row = try #require(try await daemon.ledger.lead(id))
            let lead = try #require(row.lead)
            #expect(row.leadCall == lead.leadCall, "\(id): the row's columns say what its lead says")
            result[id] = lead
        }
        return result
    }

    @Test("the caller abandoned the queue while the first call was going; the first turns junk: the abandoned call is the lead, later repeats point at it")
    func abandonedRepeatBecomesTheLead() async throws {
        let dir = TemporaryDirectory("redecide")
        defer { dir.remove() }
        let daemon = try await Daemon.open(config: Self.config(dir), registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let first = Self.ringing("a-first", at: Self.t0)
        let abandoned = Self.ringing("b-abandoned", at: Self.t0 + .seconds(20))
        let third = Self.ringing("c-third", at: Self.t0 + .seconds(600))
        await daemon.leads.handle(first)
        await daemon.leads.handle(abandoned)
        await daemon.leads.handle(Self.missed(abandoned, "abandoned"))
        var leads = try await Self.verdicts(daemon, ["a-first", "b-abandoned"])
        #expect(leads["b-abandoned"]?.repeatOf == "a-first", "while the first call goes on, it is the open lead")

        await daemon.leads.handle(Self.answered(first, talk: 3))
        await daemon.leads.handle(third)
        await daemon.leads.handle(Self.answered(third, talk: 120))
        leads = try await Self.verdicts(daemon, ["a-first", "b-abandoned", "c-third"])
        #expect(leads["a-first"]?.isLead == false)
        #expect(leads["a-first"]?.junkReason == .shortTalk)
        #expect(leads["b-abandoned"]?.isLead == true, "the call nobody answered is the one to call back")
        #expect(leads["b-abandoned"]?.repeatOf == nil)
        #expect(leads["b-abandoned"]?.disposition == .abandoned)
        #expect(leads["b-abandoned"]?.revision == 4, "a new revision, above the call's own, so PostgreSQL takes it")
        #expect(leads["c-third"]?.repeatOf == "b-abandoned")
    }

    @Test("a store left by an older daemon, with a repeat of a junk lead: the next start decides it again")
    func startRepairsRepeatsOfJunk() async throws {
        let dir = TemporaryDirectory("redecide-repair")
        defer { dir.remove() }
        let config = Self.config(dir)
        let first = Self.ringing("a-first", at: Self.t0)
        let second = Self.ringing("b-second", at: Self.t0 + .seconds(30))
        do {
            let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
            await daemon.leads.handle(first)
            await daemon.leads.handle(second)
            // What an older daemon stored when a-first ended short: junk, and nothing else revisited.
            var junk = try #require(try await daemon.ledger.lead("a-first")?.lead)
            junk.revision = 3
            junk.disposition = .answered
            junk.junkReason = .shortTalk
            try await daemon.ledger.record(junk, callRevision: 3, call: Self.answered(first, talk: 2), binding: nil, at: SystemClock().now())
            #expect(try await daemon.ledger.junkWithRepeats() == ["a-first"])
        }
        let restarted = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let leads = try await Self.verdicts(restarted, ["a-first", "b-second"])
        #expect(leads["b-second"]?.isLead == true)
        #expect(leads["b-second"]?.repeatOf == nil)
        #expect(try await restarted.ledger.junkWithRepeats().isEmpty)
        let queued = try await restarted.ledger.outbox.entries(after: 0, limit: 100).count
        #expect(queued == 4, "two ringing leads, the junk verdict, and the repeat decided again are in the outbox for the destinations")
    }

    @Test("repeats made while the junk lead was going follow the new lead; a junk repeat points at it too, and each change reaches PostgreSQL")
    func redecisionReachesPostgres() async throws {
        let cluster = try #require(PostgresCluster.shared)
        let dir = TemporaryDirectory("redecide-pg")
        defer { dir.remove() }
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        var config = Self.config(dir)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.postgres?.schema = "redecide_\(tag)"
        config.postgres?.channel = "redecide_\(tag)"
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let running = Task { try await daemon.run() }
        defer { running.cancel() }

        let first = Self.ringing("a-first", at: Self.t0)
        let second = Self.ringing("b-second", at: Self.t0 + .seconds(30))
        let short = Self.ringing("c-short", at: Self.t0 + .seconds(60))
        let missed = Self.ringing("d-missed", at: Self.t0 + .seconds(90))
        for call in [first, second, short, missed] { await daemon.leads.handle(call) }
        await daemon.leads.handle(Self.answered(short, talk: 2))
        await daemon.leads.handle(Self.missed(missed, "no_answer"))
        await daemon.leads.handle(Self.answered(second, talk: 300))

        let pg = PostgresConnection(cluster.connectionString(), logger: CallToLeadTests.quietLogger)
        defer { pg.close() }
        let schema = "\"redecide_\(tag)\""
        let beforeJunk = try await Self.waitFor(pg, "SELECT repeat_of, revision FROM \(schema).lead WHERE call_id = 'b-second'", [["a-first", "3"]])
        #expect(beforeJunk == [["a-first", "3"]], "b-second, a repeat of the open lead, did not reach PostgreSQL within 30 s")
        // A CRM connector has taken the repeat: it is synced.
        try await pg.query("UPDATE \(schema).crm_sync SET state = 'synced' WHERE lead_id = 'b-second'")

        await daemon.leads.handle(Self.answered(first, talk: 4))  // the open lead turns junk

        let leads = try await Self.verdicts(daemon, ["a-first", "b-second", "c-short", "d-missed"])
        #expect(leads["b-second"]?.isLead == true)
        #expect(leads["c-short"]?.repeatOf == "b-second")
        #expect(leads["c-short"]?.junkReason == .shortTalk)
        #expect(leads["d-missed"]?.repeatOf == "b-second")
        #expect(leads["d-missed"]?.isLead == false)
        let expected: [[String?]] = [
            ["a-first", "f", "short_talk", nil, "3"],
            ["b-second", "t", nil, nil, "4"],
            ["c-short", "f", "short_talk", "b-second", "4"],
            ["d-missed", "f", nil, "b-second", "4"],
        ]
        let rows = try await Self.waitFor(
            pg, "SELECT call_id, is_lead, junk_reason, repeat_of, revision FROM \(schema).lead ORDER BY call_id", expected)
        #expect(rows == expected, "PostgreSQL did not get every re-decided lead within 30 s")
        let dangling = try await pg.query("""
            SELECT r.call_id FROM \(schema).lead r LEFT JOIN \(schema).lead l ON l.call_id = r.repeat_of
            WHERE r.repeat_of IS NOT NULL AND l.is_lead IS NOT TRUE
            """).rows
        #expect(dangling.isEmpty, "every repeat_of in PostgreSQL names a lead there")
        let sync = try await pg.query("SELECT state FROM \(schema).crm_sync WHERE lead_id = 'b-second'").rows
        #expect(sync == [["pending"]], "the CRM is told again: the repeat it synced is a lead now")
    }

    /// Runs `sql` until it returns `expected` or 30 s passed; returns the last answer.
    static func waitFor(_ pg: PostgresConnection, _ sql: String, _ expected: [[String?]]) async throws -> [[String?]] {
        var rows: [[String?]] = []
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            rows = (try? await pg.query(sql).rows) ?? []
            if rows == expected { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return rows
    }
}
