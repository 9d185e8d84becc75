import AMIClient
import ArgumentParser
import CallTrackApp
import CallTrackCore
import Destinations
import Foundation
import NIOSSL
import Logging
import Prometheus
import Store
import TestSupport
import WebhookSender
import Webhooks

/// Webhook delivery, each figure beside a baseline measured in the same run against the same HTTPS receiver:
/// - latency: a call's AMI bytes pushed by a fake Asterisk → the receiver has the lead's first change (the whole
///   daemon in process, 50 calls/s), against one plain signed POST's round trip at the same rate;
/// - drain: N changes waiting in the outbox → all taken by one endpoint, against N plain signed POSTs from one
///   client with the same concurrency (no outbox, no encoding).
struct WebhookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks",
        abstract: "Webhooks: p99 call start → receiver's 200 at 50 calls/s (target ≤ 50 ms), and drain of 100,000 waiting changes to one endpoint (leads/s).")

    @Option(help: "Calls for the latency run.") var calls = 1_500
    @Option(help: "Calls per second.") var rate = 50
    @Option(help: "Changes waiting for the drain run.") var drain = 100_000
    @Option(help: "Requests in flight per endpoint (webhook.<id>.concurrency).") var concurrency = WebhookEndpoint.defaultConcurrency
    @Option(help: "The daemon's log level (info shows each failed attempt).") var logLevel = "error"

    static let secret = Array("bench-secret-0123456789abcdef".utf8)

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .error
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-webhooks-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await BenchWebhookReceiver.start(in: dir, secret: Self.secret)
        var endpoint = WebhookEndpoint(id: "bench", sites: ["bench"], url: try WebhookURL(receiver.url), secret: Self.secret)
        endpoint.caFile = receiver.certificate
        endpoint.concurrency = concurrency
        let roots = try await WebhookHTTPClient.trustRoots(file: receiver.certificate)
        #if DEBUG
        let build = "debug build (figures are not release figures)"
        #else
        let build = "release build"
        #endif
        print("calltrackd-bench webhooks: HTTPS receiver on loopback checking signatures, \(build)")

        let plainLatency = try await plainLatencies(endpoint: endpoint, roots: roots)
        let connectionsBefore = receiver.connections
        let requestsBefore = receiver.count
        let (hookLatency, storeLatency) = try await webhookLatencies(endpoint: endpoint, receiver: receiver, dir: dir, logger: logger)
        let latencyConnections = receiver.connections - connectionsBefore
        let (p99Plain, p99Hook) = (Self.percentile(plainLatency, 0.99), Self.percentile(hookLatency, 0.99))
        print(String(format: "latency baseline, one signed POST's round trip at %d/s: p50 %.2f ms, p99 %.2f ms", rate,
                     Self.percentile(plainLatency, 0.5), p99Plain))
        print(String(format: "call start → receiver's 200 (%d of %d calls): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; ratio p99 / baseline p99 %.1f× (target p99 ≤ 50 ms: %@)",
                     hookLatency.count, calls, Self.percentile(hookLatency, 0.5), Self.percentile(hookLatency, 0.9), p99Hook,
                     Self.percentile(hookLatency, 1), p99Hook / max(p99Plain, 0.001), p99Hook <= 50 ? "MET" : "MISSED"))
        print(String(format: "  of which call start → its first change stored (SQLite, before any webhook work): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                     Self.percentile(storeLatency, 0.5), Self.percentile(storeLatency, 0.99), Self.percentile(storeLatency, 1)))
        print("  during the latency run the endpoint opened \(latencyConnections) connection(s) and the receiver took \(receiver.count - requestsBefore) changes")

        let plainRate = try await plainThroughput(endpoint: endpoint, roots: roots)
        let drainRate = try await drainThroughput(endpoint: endpoint, roots: roots, receiver: receiver, dir: dir, logger: logger)
        print("throughput baseline, \(Self.format(Double(drain))) signed POSTs, \(concurrency) in flight, one client: \(Self.format(plainRate)) requests/s")
        print("drain of \(Self.format(Double(drain))) waiting changes to one endpoint: \(Self.format(drainRate)) leads/s; ratio drain / baseline \(String(format: "%.0f", 100 * drainRate / plainRate))%")
        print("bad signatures seen by the receiver: \(receiver.badSignatures)")
        await receiver.close()
    }

    // MARK: - Latency

    /// One signed POST of a lead change at a time, at `rate`/s: the floor of any webhook latency here.
    private func plainLatencies(endpoint: WebhookEndpoint, roots: [NIOSSLCertificate]) async throws -> [Duration] {
        let client = WebhookHTTPClient(endpoint: endpoint, trustRoots: roots)
        let bodies = Self.bodies(count: calls, endpoint: endpoint)
        var latencies: [Duration] = []
        let interval = Duration.seconds(1) / rate
        var next = ContinuousClock.now
        for body in bodies {
            let started = ContinuousClock.now
            let outcome = await client.post(body, headers: Self.headers(body))
            guard case .accepted = outcome else { throw ValidationError("baseline POST failed: \(outcome)") }
            latencies.append(ContinuousClock.now - started)
            next += interval
            try await Task.sleep(until: next, clock: .continuous)
        }
        await client.shutdown()
        return latencies.sorted()
    }

    /// The whole daemon: a fake Asterisk pushes recorded calls; each call's first lead change reaches the receiver.
    /// Per call: push → the receiver has its first change, and push → its first change stored.
    private func webhookLatencies(endpoint: WebhookEndpoint, receiver: BenchWebhookReceiver, dir: String, logger: Logger) async throws -> ([Duration], [Duration]) {
        let fixture = try CallToLeadBenchmark.recordedCall()
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script()])
        var config = AppConfig()
        config.dataDirectory = dir + "/latency"
        config.httpPort = 0
        config.leads.minTalkSeconds = 0
        config.sites = [Site(id: "bench", defaultNumber: try PhoneNumber.e164("+74950000000"),
                             pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001")])])]
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        config.webhooks = [endpoint]
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let stored = Locked<[String: ContinuousClock.Instant]>([:])
        let server = Task {
            try await daemon.run(onCallStored: { call in
                let now = ContinuousClock.now
                stored.withLock { if $0[call.id] == nil { $0[call.id] = now } }
            })
        }
        await fake.waitForAction("Status")
        let prepared = (0..<calls).map { (bytes: CallToLeadBenchmark.renumbered(fixture.bytes, variant: $0), id: fixture.callID(variant: $0)) }
        var sent: [(id: String, at: ContinuousClock.Instant)] = []
        sent.reserveCapacity(calls)
        let before = receiver.count
        let interval = Duration.seconds(1) / rate
        var next = ContinuousClock.now
        for call in prepared {
            sent.append((call.id, ContinuousClock.now))
            try await fake.push(call.bytes)
            next += interval
            try await Task.sleep(until: next, clock: .continuous)
        }
        // Each call brings 3 changes (ringing, answered, ended); a minute at most for the last ones.
        let arrived = Task { await receiver.waitFor(before + 3 * calls) }
        let deadline = Task { try await Task.sleep(for: .seconds(60)); arrived.cancel() }
        await arrived.value
        deadline.cancel()
        server.cancel()
        _ = try? await server.value
        await fake.stop()
        let latencies = sent.compactMap { call in receiver.firstArrival(of: call.id).map { $0 - call.at } }
        guard !latencies.isEmpty else { throw ValidationError("no lead change reached the receiver") }
        let storing = stored.withLock { times in sent.compactMap { call in times[call.id].map { $0 - call.at } } }
        return (latencies.sorted(), storing.sorted())
    }

    // MARK: - Throughput

    /// `drain` signed POSTs, `concurrency` at a time, from one client.
    private func plainThroughput(endpoint: WebhookEndpoint, roots: [NIOSSLCertificate]) async throws -> Double {
        let client = WebhookHTTPClient(endpoint: endpoint, trustRoots: roots)
        let bodies = Self.bodies(count: drain, endpoint: endpoint)
        let started = ContinuousClock.now
        let failures = await withTaskGroup(of: Int.self, returning: Int.self) { group in
            let width = max(1, concurrency)
            for lane in 0..<width {
                group.addTask {
                    var failed = 0
                    for index in stride(from: lane, to: bodies.count, by: width) {
                        if case .failed = await client.post(bodies[index], headers: Self.headers(bodies[index])) { failed += 1 }
                    }
                    return failed
                }
            }
            return await group.reduce(0, +)
        }
        let seconds = (ContinuousClock.now - started).secondsDouble
        await client.shutdown()
        guard failures == 0 else { throw ValidationError("\(failures) baseline POSTs failed") }
        return Double(drain) / seconds
    }

    /// `drain` changes committed while the endpoint's delivery is stopped, then drained into the receiver.
    private func drainThroughput(endpoint: WebhookEndpoint, roots: [NIOSSLCertificate], receiver: BenchWebhookReceiver,
                                 dir: String, logger: Logger) async throws -> Double {
        let store = try SQLiteStore(path: dir + "/drain.sqlite", logger: logger)
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let client = WebhookHTTPClient(endpoint: endpoint, trustRoots: roots)
        let destination = WebhookDestination(endpoint: endpoint, client: client, clock: SystemClock(), leadJSON: Daemon.leadJSON, logger: logger)
        let delivery = DestinationDelivery(destination: destination, ledger: ledger, configuration: DeliveryConfiguration(start: .beginning), logger: logger)
        var lastID: Int64 = 0
        for start in stride(from: 0, to: drain, by: 1000) {
            let leads = (start..<min(start + 1000, drain)).map { Self.lead($0) }
            lastID = try await ledger.store(leads, at: SystemClock().now()).last ?? lastID
        }
        let before = receiver.count
        let started = ContinuousClock.now
        let running = Task { try await delivery.run() }
        await delivery.waitUntilDone(through: lastID)
        let seconds = (ContinuousClock.now - started).secondsDouble
        running.cancel()
        _ = try? await running.value
        await client.shutdown()
        guard receiver.count - before >= drain, delivery.progress.failed == 0 else {
            throw ValidationError("drain: the receiver took \(receiver.count - before) of \(drain), \(delivery.progress.failed) set aside")
        }
        return Double(drain) / seconds
    }

    // MARK: - Data

    static func lead(_ n: Int) -> Lead {
        var lead = LeadDeliveryBenchmark.lead(n)
        lead.siteID = "bench"
        return lead
    }

    /// Lead-change bodies as the endpoint sends them.
    static func bodies(count: Int, endpoint: WebhookEndpoint) -> [[UInt8]] {
        (0..<count).map { n in
            let lead = lead(n)
            return WebhookPayload.leadChange(lead: lead, entry: OutboxEntry(id: Int64(n + 1), key: lead.callID, revision: 1, enqueuedAt: lead.startedAt),
                                             endpoint: endpoint.id, leadJSON: Daemon.leadJSON(lead))
        }
    }

    /// The headers the destination sends, signed now.
    static func headers(_ body: [UInt8]) -> [(String, String)] {
        let timestamp = SystemClock().now().microsecondsSinceEpoch / 1_000_000
        return [("Content-Type", "application/json"), (WebhookSignature.timestampHeader, "\(timestamp)"),
                (WebhookSignature.signatureHeader, WebhookSignature.sign(body: body, timestamp: timestamp, secret: secret))]
    }

    /// Milliseconds at quantile `q` of sorted durations.
    static func percentile(_ sorted: [Duration], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))]
        return Double(value.components.seconds) * 1000 + Double(value.components.attoseconds) / 1e15
    }

    static func format(_ value: Double) -> String { LeadDeliveryBenchmark.format(value) }
}
