import CallTrackApp
import CallTrackCore
import CoreMetrics
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
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

    @Test("a running daemon replays an endpoint's changes since a time through the admin API, without a restart")
    func replayWhileRunning() async throws {
        let directory = TemporaryDirectory("webhook-replay")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock)
        defer { Task { await receiver.close(); directory.remove() } }
        var config = AppConfig()
        config.dataDirectory = directory.file("data")
        config.httpPort = 0
        config.api.adminToken = "replay-admin-token-0123456789"
        var endpoint = WebhookEndpoint(id: "crm", sites: ["acme"], url: try WebhookURL(receiver.url), secret: webhookSecret)
        endpoint.caFile = receiver.certificate
        // Nothing listens on port 1: this endpoint keeps retrying its first batch on the manual clock.
        let dead = WebhookEndpoint(id: "dead", sites: ["acme"], url: try WebhookURL("https://127.0.0.1:1/hook"), secret: webhookSecret)
        config.webhooks = [endpoint, dead]
        var daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock,
                                           logger: CapturedLogs(level: .info).logger)
        daemon.webhookJitter = { 1 }
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let running = Task { [daemon] in try await daemon.run(onListening: { listening.yield($0) }) }
        defer { running.cancel() }
        let port = try await firstElement(ports, waitingFor: "the daemon's HTTP port")
        let early = try await daemon.ledger.store((0..<10).map { lead($0, at: clock.now()) }, at: clock.now())
        try await within(.seconds(60), waitingFor: "the first 10 changes") { await receiver.waitForRequests(10) }
        let since = clock.advance(by: .seconds(100))
        let late = try await daemon.ledger.store((10..<15).map { lead($0, at: clock.now()) }, at: clock.now())
        try await within(.seconds(60), waitingFor: "15 changes") { await receiver.waitForRequests(15) }

        let token = config.api.adminToken!
        @Sendable func replay(_ endpoint: String, since: String) async throws -> (status: Int, json: [String: Any]) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/admin/webhooks/\(endpoint)/replay?since=\(since)")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            let (data, response) = try await OpenAPIConformance.data(for: request)
            return (response.statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
        }
        let answer = try await replay("crm", since: since.iso8601)
        #expect(answer.status == 200 && answer.json["waiting"] as? Int == 5, "\(answer.json)")
        try await within(.seconds(60), waitingFor: "the 5 changes since then, again") { await receiver.waitForRequests(20) }
        let ids = receiver.accepted.map(\.changeID)
        #expect(Array(ids.prefix(15)) == early + late && Array(ids.suffix(5)) == late, "the later five again, in order: \(ids)")
        try await within(.seconds(30), waitingFor: "the cursor past the replayed changes") {
            while try await daemon.ledger.deliveryLog.stats(for: "webhook:crm").pending > 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        // The dead endpoint is retrying a batch: the answer does not wait for it (202), the replay is taken after it.
        let sinceText = since.iso8601
        let queued = Task { try await replay("dead", since: sinceText).status }
        try await clock.advance(by: .seconds(3), firing: "the bound on the replay answer's wait")
        let answerWhileRetrying = try await queued.value
        #expect(answerWhileRetrying == 202)
        #expect(try await replay("nobody", since: "1h").status == 404)
        #expect(try await replay("crm", since: "yesterday").status == 400)
        running.cancel()
        _ = try? await running.value
    }
}
