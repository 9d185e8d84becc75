import AMIClient
import ArgumentParser
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import NIOCore
import PostgresSink
import Prometheus
import TestSupport
import Webhooks

/// A slow webhook endpoint beside PostgreSQL: each lead destination reads the outbox through its own cursor in its
/// own loop, so an endpoint answering in 1 s must leave PostgreSQL's call-to-lead latency where it is. Each round
/// runs the whole daemon twice at the same call rate, on a fresh data folder each time, alternating which goes
/// first: PostgreSQL alone (the baseline), and PostgreSQL plus one endpoint for the same site whose receiver
/// answers every request `--delay-ms` after it arrived.
struct SlowWebhookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slow-webhook",
        abstract: "PostgreSQL's call-to-lead p99 beside a webhook endpoint answering in 1 s vs PostgreSQL alone (target: unchanged within the baseline's round-to-round spread).")

    @Option(help: "Calls per run (each call brings 3 lead changes: ringing, answered, ended).") var calls = 1_000
    @Option(help: "Calls per second.") var rate = 40
    @Option(help: "Rounds of both configurations, alternating which goes first; per-round and pooled figures are printed.") var rounds = 3
    @Option(help: "How long the slow receiver waits before answering each request, in milliseconds.") var delayMs = 1_000

    func run() async throws {
        try await PostgresCluster.with(durable: true) { try await run(on: $0) }
    }

    private func run(on cluster: PostgresCluster) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-slowhook-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let receiver = try await BenchWebhookReceiver.start(in: dir, secret: WebhookBenchmark.secret, answerDelay: .milliseconds(Int64(delayMs)))
        var endpoint = WebhookEndpoint(id: "slow", sites: ["bench"], url: try WebhookURL(receiver.url), secret: WebhookBenchmark.secret)
        endpoint.caFile = receiver.certificate

        let listener = PostgresConnection(cluster.connectionString(), logger: logger)
        defer { listener.close() }
        try await listener.listen("calltrack_lead")
        let arrivals = PostgresArrivals.reading(listener)
        defer { arrivals.stop() }
        let runner = PostgresLatencyRun(cluster: cluster, arrivals: arrivals, receiver: receiver, directory: dir, calls: calls, rate: rate, logger: logger)

        print("calltrackd-bench slow-webhook: \(rounds) rounds × \(calls) calls at \(rate)/s (recorded call 01-answered), PostgreSQL fsync on, alone and beside an HTTPS endpoint answering in \(delayMs) ms (concurrency \(endpoint.concurrency)), release build")
        var alone: [PostgresLatencyRun.Result] = []
        var beside: [PostgresLatencyRun.Result] = []
        for round in 1...max(rounds, 1) {
            // Odd rounds start with the baseline, even rounds with the slow endpoint: neither always runs second.
            for slow in round % 2 == 1 ? [false, true] : [true, false] {
                let result = try await runner.measure(slowEndpoint: slow ? endpoint : nil)
                print(result.line("round \(round) \(slow ? "beside the slow endpoint" : "PostgreSQL alone")"))
                if slow { beside.append(result) } else { alone.append(result) }
            }
        }
        await receiver.close()

        let (pooledAlone, pooledBeside) = (alone.flatMap(\.latencies).sorted(), beside.flatMap(\.latencies).sorted())
        let (p99Alone, p99Beside) = (WebhookBenchmark.percentile(pooledAlone, 0.99), WebhookBenchmark.percentile(pooledBeside, 0.99))
        print(Self.summary("PostgreSQL alone, all rounds", pooledAlone))
        print(Self.summary("beside the slow endpoint, all rounds", pooledBeside))
        let ratios = zip(beside, alone).map { $0.p99 / max($1.p99, 0.001) }
        // The baseline measured against itself: how far its p99 moves from one round to the next on this machine.
        let spread = (alone.map(\.p99).max() ?? 0) / max(alone.map(\.p99).min() ?? 0, 0.001)
        let ratio = p99Beside / max(p99Alone, 0.001)
        // Medians of the rounds: one round on a busy minute moves the pooled p99 of its configuration alone.
        print(String(format: "per-round p99, median: alone %.2f ms, beside the slow endpoint %.2f ms; median of the rounds' ratios %.2f×",
                     Self.median(alone.map(\.p99)), Self.median(beside.map(\.p99)), Self.median(ratios)))
        print(String(format: "p99 ratio beside / alone: %.2f× pooled (per round %@); the baseline's own round-to-round spread %.2f× (target unchanged, ratio ≤ max(1.10, spread): %@)",
                     ratio, ratios.map { String(format: "%.2f×", $0) }.joined(separator: ", "), spread, ratio <= max(1.1, spread) ? "MET" : "MISSED"))
        let backlogs = beside.map { "\($0.webhookPending ?? 0) pending, \($0.webhookTaken) taken" }
        print("the slow endpoint's outbox when PostgreSQL had the run's last lead: \(backlogs.joined(separator: "; ")) (of \(3 * (calls + PostgresLatencyRun.warmUp)) changes per run)")
    }

    /// The middle value (the upper of the two middle ones for an even count); nan for none.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }

    static func summary(_ label: String, _ sorted: [Duration]) -> String {
        String(format: "%@ (%d leads): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms", label, sorted.count,
               WebhookBenchmark.percentile(sorted, 0.5), WebhookBenchmark.percentile(sorted, 0.9),
               WebhookBenchmark.percentile(sorted, 0.99), WebhookBenchmark.percentile(sorted, 1))
    }
}
