import AMIClient
import ArgumentParser
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import PostgresSink
import Prometheus
import Store
import TestSupport
import Webhooks

/// One run of the whole daemon on a fresh data folder, leads to PostgreSQL and optionally to one webhook endpoint:
/// calls pushed by a fake Asterisk at a steady rate, each call's latency taken from the push of its bytes to the
/// first `NOTIFY` with its call id, and the endpoint's backlog read when PostgreSQL has the run's last lead.
struct PostgresLatencyRun: Sendable {
    /// Calls pushed and awaited before the measured ones: the first run creates PostgreSQL's tables, and every run's
    /// first calls open its connections, which is no steady state.
    static let warmUp = 20

    let cluster: PostgresCluster
    let arrivals: PostgresArrivals
    let receiver: BenchWebhookReceiver
    let directory: String
    let calls: Int
    let rate: Int
    let logger: Logger
    private let runs = Locked(0)

    init(cluster: PostgresCluster, arrivals: PostgresArrivals, receiver: BenchWebhookReceiver, directory: String, calls: Int, rate: Int, logger: Logger) {
        self.cluster = cluster
        self.arrivals = arrivals
        self.receiver = receiver
        self.directory = directory
        self.calls = calls
        self.rate = rate
        self.logger = logger
    }

    struct Result: Sendable {
        /// Push → first NOTIFY, sorted, for the measured calls whose lead arrived.
        var latencies: [Duration]
        var calls: Int
        /// `/proc/loadavg`'s 1, 5 and 15 minute figures when the last call was pushed.
        var load: String
        /// The endpoint's entries not yet delivered when PostgreSQL had the last lead; nil without an endpoint.
        var webhookPending: Int?
        /// Requests the receiver took during the run.
        var webhookTaken: Int
        var postgresPending: Int

        var p99: Double { WebhookBenchmark.percentile(latencies, 0.99) }

        func line(_ label: String) -> String {
            var text = String(format: "  %@: load %@; %d of %d leads; p50 %.2f ms, p99 %.2f ms, max %.2f ms; PostgreSQL's outbox %d pending",
                              label, load, latencies.count, calls, WebhookBenchmark.percentile(latencies, 0.5), p99,
                              WebhookBenchmark.percentile(latencies, 1), postgresPending)
            if let webhookPending { text += ", the endpoint's \(webhookPending) pending (\(webhookTaken) taken)" }
            return text
        }
    }

    /// Runs the daemon for `calls` calls at `rate`/s; `slowEndpoint` nil: PostgreSQL is the only destination.
    func measure(slowEndpoint: WebhookEndpoint?) async throws -> Result {
        let run = runs.withLock { runs in runs += 1; return runs }
        let fixture = try CallToLeadBenchmark.recordedCall()
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script()])
        var config = AppConfig()
        config.dataDirectory = directory + "/run-\(run)"
        config.httpPort = 0
        config.leads.minTalkSeconds = 0
        config.sites = [Site(id: "bench", defaultNumber: try PhoneNumber.e164("+74950000000"),
                             pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001")])])]
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.webhooks = slowEndpoint.map { [$0] } ?? []
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let server = Task { try await daemon.run() }
        await fake.waitForAction("Status")  // the client finished its resync: calls can come

        // Each run's calls have call ids of their own: variants numbered from where the previous run stopped.
        let first = (run - 1) * (Self.warmUp + calls)
        let prepared = (first..<(first + Self.warmUp + calls)).map {
            (bytes: CallToLeadBenchmark.renumbered(fixture.bytes, variant: $0), id: fixture.callID(variant: $0))
        }
        let interval = Duration.seconds(1) / rate
        for call in prepared[..<Self.warmUp] {
            try await fake.push(call.bytes)
            try await Task.sleep(for: interval)
        }
        _ = await arrivals.wait(for: prepared[..<Self.warmUp].map(\.id), upTo: .seconds(30))

        let takenBefore = receiver.count
        var sent: [(id: String, at: ContinuousClock.Instant)] = []
        sent.reserveCapacity(calls)
        var next = ContinuousClock.now
        for call in prepared[Self.warmUp...] {
            sent.append((call.id, ContinuousClock.now))
            try await fake.push(call.bytes)
            next += interval
            try await Task.sleep(until: next, clock: .continuous)
        }
        let load = Self.loadAverage()  // its 1-minute figure covers most of the run
        // Leads still on their way get a minute; the figure is taken over those that arrived.
        _ = await arrivals.wait(for: sent.map(\.id), upTo: .seconds(60))
        let outbox = daemon.ledger.deliveryLog
        let postgresPending = try await outbox.stats(for: PostgresLeadDestination.defaultName).pending
        var webhookPending: Int?
        if let slowEndpoint { webhookPending = try await outbox.stats(for: slowEndpoint.destinationName).pending }
        let taken = receiver.count - takenBefore
        server.cancel()
        _ = try? await server.value
        await fake.stop()

        let latencies = arrivals.latencies(of: sent)
        guard !latencies.isEmpty else { throw ValidationError("no lead arrived in PostgreSQL") }
        return Result(latencies: latencies, calls: calls, load: load, webhookPending: webhookPending, webhookTaken: taken,
                      postgresPending: postgresPending)
    }

    /// The 1, 5 and 15 minute load averages as `/proc/loadavg` has them ("?" where there is none).
    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").prefix(3).joined(separator: " ")
    }
}

/// When each call id was first announced by PostgreSQL's `NOTIFY` on the lead channel, over every run: one
/// `LISTEN`ing connection for the whole benchmark, read by one task.
final class PostgresArrivals: Sendable {
    private let first: Locked<[String: ContinuousClock.Instant]>
    private let reader: Task<Void, Never>

    private init(first: Locked<[String: ContinuousClock.Instant]>, reader: Task<Void, Never>) {
        self.first = first
        self.reader = reader
    }

    /// Starts reading `connection`'s notifications (it must `LISTEN` on the lead channel); `stop()` ends it.
    static func reading(_ connection: PostgresConnection) -> PostgresArrivals {
        let first = Locked<[String: ContinuousClock.Instant]>([:])
        let reader = Task {
            for await notification in connection.notifications {
                let now = ContinuousClock.now
                first.withLock { if $0[notification.payload] == nil { $0[notification.payload] = now } }
            }
        }
        return PostgresArrivals(first: first, reader: reader)
    }

    func stop() { reader.cancel() }

    /// Returns once every id has arrived (true) or `limit` has passed (false); checks every 50 ms, which only
    /// delays the return, not the arrival times (the reader notes them as they come).
    func wait(for ids: [String], upTo limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if first.withLock({ first in ids.allSatisfy { first[$0] != nil } }) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Sent → first arrival for the calls that arrived, sorted.
    func latencies(of sent: [(id: String, at: ContinuousClock.Instant)]) -> [Duration] {
        first.withLock { first in sent.compactMap { call in first[call.id].map { $0 - call.at } } }.sorted()
    }
}
