import CallTrackCore
import Foundation
import Logging
import PostgresSink
import Store
import TestSupport

/// A fresh schema and channel per test, so tests share one cluster and still run in parallel.
struct Scratch {
    let cluster: PostgresCluster
    let schema: PostgresSchema
    let writer: LeadWriter

    init(_ cluster: PostgresCluster? = PostgresCluster.shared) throws {
        guard let cluster else { throw PostgresCluster.Failure(description: "no cluster: the suite needs .postgresCluster") }
        self.cluster = cluster
        let tag = String(UInt64.random(in: 0...UInt64.max), radix: 36)
        schema = try PostgresSchema(name: "t_\(tag)", channel: "lead_\(tag)")
        writer = LeadWriter(schema: schema)
    }

    /// A login role that may create schemas. Tests run in parallel, and two GRANTs on the same database at
    /// once fail with "tuple concurrently updated": an advisory lock, held to the end of the statement's
    /// implicit transaction, takes them one at a time.
    func createLoginRole(_ role: String, password: String, with admin: PostgresConnection) async throws {
        try await admin.execute(
            "SELECT pg_advisory_xact_lock(7301); CREATE ROLE \(role) LOGIN PASSWORD '\(password)'; GRANT CREATE ON DATABASE postgres TO \(role)")
    }

    func connection(password: String? = nil) -> PostgresConnection {
        PostgresConnection(cluster.connectionString(password: password), logger: Logger(label: "test.pg"))
    }

    /// A connection with the schema migrated.
    func migrated() async throws -> PostgresConnection {
        let pg = connection()
        let schema = self.schema
        try await pg.withSession { session throws(PostgresError) in try schema.migrate(session) }
        return pg
    }

    /// Upserts through the writer; returns how many leads changed.
    @discardableResult
    func upsert(_ pg: PostgresConnection, _ leads: [Lead]) async throws -> Int {
        let writer = self.writer
        return try await pg.withSession { session throws(PostgresError) in try writer.upsert(leads, in: session) }
    }

    func rows(_ pg: PostgresConnection, _ sql: String, _ parameters: [String?] = []) async throws -> [[String?]] {
        try await pg.query(sql.replacingOccurrences(of: "$schema", with: "\"\(schema.name)\""), parameters).rows
    }
}

let t0 = Timestamp(microsecondsSinceEpoch: 1_790_000_000_000_000)

/// A matched lead with a two-touch journey (an ad, then a newsletter); a revision above 1 is answered, 30 s of talk each.
func lead(_ n: Int, revision: Int64 = 1, callerName: String? = "Ivan") -> Lead {
    let ad = Touch(sessionID: "s0-\(n)", at: Timestamp(secondsSinceEpoch: 1_789_000_000), channel: .paidSearch, source: "google", medium: "cpc")
    let mail = Touch(sessionID: "s-\(n)", at: Timestamp(secondsSinceEpoch: 1_789_990_000), channel: .email, source: "newsletter", medium: "email")
    return Lead(
        callID: "call-\(n)", revision: revision, siteID: "acme", trackingNumber: try! PhoneNumber.e164("+74950000001"),
        caller: try! PhoneNumber.e164("+7916000\(String(format: "%04d", n % 10_000))"), callerName: callerName,
        startedAt: t0 + .seconds(Int64(n)), disposition: revision > 1 ? .answered : .ringing, talkSeconds: Int(revision - 1) * 30,
        match: Match(kind: .exact, sessionID: "s-\(n)", visitorID: "v-\(n)", confidence: 1, candidateCount: 1, rule: "single live lease"),
        visitorID: "v-\(n)", userAgent: "Mozilla/5.0", firstTouch: ad, lastTouch: mail, journey: [ad, mail], dealerID: "dealer-1",
        changedAt: t0 + .seconds(Int64(n)) + .milliseconds(Int64(revision)))
}

/// Collects notifications until `count` arrived; throws if the stream ends first or a minute passes.
func collect(_ pg: PostgresConnection, count: Int) async throws -> [PostgresNotification] {
    try await TestSupport.collect(count, from: pg.notifications, waitingFor: "a NOTIFY")
}

/// Collects notification payloads until one equals `sentinel` (not included), within a minute.
func collect(_ pg: PostgresConnection, until sentinel: String) async throws -> [PostgresNotification] {
    let notifications = pg.notifications
    return try await within(.seconds(60), waitingFor: "the NOTIFY '\(sentinel)'") {
        var received: [PostgresNotification] = []
        for await notification in notifications {
            if notification.payload == sentinel { return received }
            received.append(notification)
        }
        throw StreamEnded(what: "the NOTIFY '\(sentinel)'")
    }
}
