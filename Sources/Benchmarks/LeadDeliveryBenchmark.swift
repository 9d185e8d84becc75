import ArgumentParser
import CallTrackCore
import Destinations
import Foundation
import Logging
import PostgresSink
import Store
import TestSupport

/// Outbox drain rate after an outage: N leads wait in the SQLite outbox, then the delivery
/// service drains them into PostgreSQL; compared, in the same run, with a plain 100-row
/// multi-row upsert of the same rows from one client.
struct LeadDeliveryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lead-delivery",
        abstract: "Outbox drain rate into PostgreSQL (target ≥ 20,000 leads/s and ≥ 50% of a plain 100-row upsert).")

    @Option(help: "Leads waiting in the outbox.")
    var leads = 100_000

    @Option(help: "Rows per drain statement (the plain baseline always uses 100).")
    var batch = DeliveryConfiguration().batchSize

    @Option(help: "libpq connection string of a server to use; default: a throwaway durable cluster (fsync on).")
    var conninfo: String?

    @Option(help: "Rounds of (plain, statement alone, drain); medians are reported (the machine is shared).")
    var rounds = 3

    func run() async throws {
        if conninfo != nil { return try await run(on: nil) }
        try await PostgresCluster.with(durable: true) { try await run(on: $0) }
    }

    private func run(on cluster: PostgresCluster?) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let conninfo = self.conninfo ?? cluster!.connectionString()
        let changes = (0..<leads).map(Self.lead)
        print("lead-delivery: \(leads) leads, \(batch) rows per drain statement, \(rounds) rounds, PostgreSQL \(cluster == nil ? "given" : "throwaway cluster, fsync on")")
        var plain: [Double] = [], direct: [Double] = [], drain: [Double] = [], ratios: [Double] = []
        for round in 1...max(1, rounds) {
            // Baseline: the same rows, 100 per plain upsert statement, one client.
            plain.append(try await rate(conninfo, schema: "bench_plain", changes: changes, rowsPerStatement: 100, plain: true, logger: logger))
            // The delivery's own statement (with crm_sync and NOTIFY), without the outbox around it.
            direct.append(try await rate(conninfo, schema: "bench_direct", changes: changes, rowsPerStatement: batch, plain: false, logger: logger))
            drain.append(try await drainRate(conninfo, changes: changes, logger: logger))
            ratios.append(drain.last! / plain.last!)
            print("  round \(round): plain \(Self.format(plain.last!)) rows/s, statement alone \(Self.format(direct.last!)) rows/s, drain \(Self.format(drain.last!)) leads/s (\(String(format: "%.0f", 100 * ratios.last!))%)")
        }
        let (plainRate, directRate, rate, ratio) = (Self.median(plain), Self.median(direct), Self.median(drain), Self.median(ratios))
        print("  plain 100-row upsert (median):   \(Self.format(plainRate)) rows/s")
        print("  delivery statement alone (\(batch) rows, crm_sync, NOTIFY; no outbox): \(Self.format(directRate)) rows/s")
        print("  outbox drain, 100,000 waiting (median): \(Self.format(rate)) leads/s")
        print("  ratio drain / plain (median of rounds): \(String(format: "%.0f", 100 * ratio))%")
        print("  targets: ≥ 20,000 leads/s \(rate >= 20_000 ? "met" : "NOT met"); ≥ 50% of plain \(ratio >= 0.5 ? "met" : "NOT met")")
    }

    /// All leads committed to a new outbox while the delivery is stopped (an outage), then drained.
    private func drainRate(_ conninfo: String, changes: [Lead], logger: Logger) async throws -> Double {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lead-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("state.sqlite").path, logger: logger)
        let schema = try PostgresSchema(name: "bench_outbox")
        let connection = PostgresConnection(conninfo, logger: logger)
        try await connection.execute("DROP SCHEMA IF EXISTS bench_outbox CASCADE")
        try await connection.withSession { session throws(PostgresError) in try schema.migrate(session) }
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        // A destination seen for the first time, asked to start from the beginning: the leads wait already.
        let delivery = DestinationDelivery(
            destination: PostgresLeadDestination(connection: connection, schema: schema, logger: logger), ledger: ledger,
            configuration: DeliveryConfiguration(batchSize: batch, start: .beginning), logger: logger)
        var lastID: Int64 = 0
        for start in stride(from: 0, to: changes.count, by: 1000) {
            lastID = try await ledger.store(Array(changes[start..<min(start + 1000, changes.count)]), at: SystemClock().now()).last ?? lastID
        }
        let started = ContinuousClock.now
        let running = Task { try await delivery.run() }
        await delivery.waitUntilDone(through: lastID)
        let seconds = (ContinuousClock.now - started).secondsDouble
        running.cancel()
        let stored = try await connection.query("SELECT count(*) FROM bench_outbox.lead").scalar()
        guard stored == String(changes.count), delivery.progress.failed == 0 else {
            throw ValidationError("drain stored \(stored ?? "?") of \(changes.count) leads, \(delivery.progress.failed) set aside")
        }
        try await connection.execute("DROP SCHEMA bench_outbox CASCADE")
        return Double(changes.count) / seconds
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Rows per second of upserting `changes` from one connection into a fresh schema.
    private func rate(_ conninfo: String, schema name: String, changes: [Lead], rowsPerStatement: Int, plain: Bool, logger: Logger) async throws -> Double {
        let schema = try PostgresSchema(name: name)
        let pg = PostgresConnection(conninfo, logger: logger)
        try await pg.execute("DROP SCHEMA IF EXISTS \(name) CASCADE")
        try await pg.withSession { session throws(PostgresError) in try schema.migrate(session) }
        let writer = LeadWriter(schema: schema)
        let start = ContinuousClock.now
        for first in stride(from: 0, to: changes.count, by: rowsPerStatement) {
            let rows = Array(changes[first..<min(first + rowsPerStatement, changes.count)])
            try await pg.withSession { session throws(PostgresError) in
                if plain { try writer.plainUpsert(rows, in: session) } else { try writer.upsert(rows, in: session) }
            }
        }
        let seconds = (ContinuousClock.now - start).secondsDouble
        try await pg.execute("DROP SCHEMA \(name) CASCADE")
        return Double(changes.count) / seconds
    }

    static func format(_ rate: Double) -> String {
        let formatter = NumberFormatter()
        formatter.numberStyle = .decimal
        formatter.maximumFractionDigits = 0
        return formatter.string(from: NSNumber(value: rate)) ?? "\(Int(rate))"
    }

    /// A realistic lead: matched, with a two-touch journey and a browser user agent.
    static func lead(_ n: Int) -> Lead {
        let start = Timestamp(microsecondsSinceEpoch: 1_790_000_000_000_000 + Int64(n) * 1_000_000)
        let first = Touch(sessionID: "s0-\(n)", at: Timestamp(secondsSinceEpoch: 1_789_000_000), channel: .paidSearch,
                          source: "google", medium: "cpc", campaign: "brand")
        let last = Touch(sessionID: "s-\(n)", at: Timestamp(secondsSinceEpoch: 1_789_999_000), channel: .paidSearch,
                         source: "yandex", medium: "cpc", campaign: "generic")
        let lease = Lease(poolID: "main", number: try! PhoneNumber.e164("+7495000\(String(format: "%04d", n % 500))"),
                          sessionID: "s-\(n)", visitorID: "v-\(n)", startedAt: Timestamp(secondsSinceEpoch: 1_789_999_000),
                          lastActivityAt: Timestamp(secondsSinceEpoch: 1_789_999_000), expiresAt: Timestamp(secondsSinceEpoch: 1_790_000_900))
        return Lead(
            callID: "bench-\(n)", revision: 1, siteID: "acme", trackingNumber: lease.number,
            caller: try! PhoneNumber.e164("+7916\(String(format: "%07d", n))"), callerRaw: "8916\(String(format: "%07d", n))",
            callerName: "Caller \(n)", startedAt: start,
            match: Match(kind: .exact, sessionID: "s-\(n)", visitorID: "v-\(n)", confidence: 1, candidateCount: 1,
                         candidates: [MatchCandidate(lease)], rule: "one lease held the number at call time"),
            visitorID: "v-\(n)",
            userAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
            firstTouch: first, lastTouch: last, journey: [first, last], dealerID: "dealer-\(n % 7)", changedAt: start)
    }
}
