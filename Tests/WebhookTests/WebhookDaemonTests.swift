import CallTrackApp
import CallTrackCore
import CoreMetrics
import Foundation
import Logging
import Prometheus
import Testing
import TestSupport
import Webhooks

/// The daemon wires each configured endpoint as a destination of its own: one endpoint where nothing listens
/// retries on the daemon's clock while the other gets every change.
@Suite(.timeLimit(.minutes(2)))
struct WebhookDaemonTests {
    @Test func aDeadEndpointDelaysNoOtherEndpoint() async throws {
        let directory = TemporaryDirectory("webhook-daemon")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock)
        defer { Task { await receiver.close(); directory.remove() } }
        var config = AppConfig()
        config.dataDirectory = directory.file("data")
        config.httpPort = 0
        var live = WebhookEndpoint(id: "crm", sites: ["acme"], url: try WebhookURL(receiver.url), secret: webhookSecret)
        live.caFile = receiver.certificate
        // Nothing listens on port 1: every attempt is refused at once, and the retry waits on the manual clock.
        let dead = WebhookEndpoint(id: "dead", sites: ["acme"], url: try WebhookURL("https://127.0.0.1:1/hook"), secret: webhookSecret)
        config.webhooks = [dead, live]
        let metrics = RecordingMetrics()
        try await withMetricsFactory(metrics) {
            var daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock,
                                               logger: CapturedLogs(level: .info).logger)
            daemon.webhookJitter = { 1 }
            let (ports, listening) = AsyncStream.makeStream(of: Int.self)
            let running = Task { [daemon] in try await daemon.run(onListening: { listening.yield($0) }) }
            defer { running.cancel() }
            _ = try await firstElement(ports, waitingFor: "the daemon's HTTP port")
            let ids = try await daemon.ledger.store((0..<25).map { lead($0, at: clock.now()) }, at: clock.now())
            try await within(.seconds(60), waitingFor: "25 changes at the live endpoint") { await receiver.waitForRequests(25) }
            try await clock.waitForSleeper(until: clock.now() + .seconds(1), waitingFor: "the dead endpoint's first retry")
            #expect(Set(receiver.accepted.map(\.changeID)) == Set(ids))
            let waiting = try await daemon.ledger.deliveryLog.stats(for: "webhook:dead")
            #expect(waiting.pending == ids.count, "every change waits for the dead endpoint")
            #expect(try await daemon.ledger.deliveryLog.stats(for: "webhook:crm").pending == 0)
            try await within(.seconds(30), waitingFor: "the live endpoint's delivery count") {
                await metrics.waitFor("calltrackd_webhook_deliveries_total", [("endpoint", "crm")], 25)
            }
            #expect((metrics.value("calltrackd_webhook_failed_attempts_total", [("endpoint", "dead")]) ?? 0) >= 1)
            #expect((metrics.value("calltrackd_webhook_retrying_entries", [("endpoint", "dead")]) ?? 0) >= 1)
            running.cancel()
            _ = try? await running.value
        }
    }
}
