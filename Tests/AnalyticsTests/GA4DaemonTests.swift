import CallTrackApp
import CallTrackCore
import CoreMetrics
import Foundation
import Logging
import Prometheus
import Testing
import TestSupport

/// The daemon, configured by a real config file (the secret from the environment), wires each GA4 property as a
/// destination of its own: a property whose endpoint is dead retries on the daemon's clock while the other gets
/// every event.
@Suite(.timeLimit(.minutes(2)))
struct GA4DaemonTests {
    @Test func aConfigFilesPropertiesAreDestinationsAndADeadOneDelaysNoOther() async throws {
        let directory = TemporaryDirectory("ga4-daemon")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await GA4Receiver.start(clock: clock, measurementID: measurementID, apiSecret: apiSecret)
        defer { Task { await receiver.close(); directory.remove() } }
        let path = directory.file("calltrackd.yaml")
        try """
            http: { host: 127.0.0.1, port: 0 }
            data: { dir: "\(directory.file("data"))" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", ga4: [down, main] }
            ga4:
              main: { measurement_id: \(measurementID), endpoint: "\(receiver.endpoint)", retry_initial: 1s }
              # Nothing listens on port 1: every attempt is refused at once, and the retry waits on the manual clock.
              down: { measurement_id: G-DOWN00001, api_secret: "down-secret-0123", endpoint: "http://127.0.0.1:1/mp/collect", retry_initial: 1s }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        let config = try await ConfigLoader.load(file: path, environment: ["CALLTRACKD_GA4_MAIN_API_SECRET": apiSecret])
        #expect(config.ga4.map(\.id) == ["down", "main"])
        let metrics = RecordingMetrics()
        try await withMetricsFactory(metrics) {
            var daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock,
                                               logger: CapturedLogs(level: .info).logger)
            daemon.webhookJitter = { 1 }
            let (ports, listening) = AsyncStream.makeStream(of: Int.self)
            let running = Task { [daemon] in try await daemon.run(onListening: { listening.yield($0) }) }
            defer { running.cancel() }
            _ = try await firstElement(ports, waitingFor: "the daemon's HTTP port")
            let now = clock.now()
            try await daemon.store.apply((1...5).map { .session(visit($0, at: now)) })
            let ids = try await daemon.ledger.store((1...5).map { lead($0, startedAt: now - .seconds(120), now: now) }, at: now)
            try await within(.seconds(60), waitingFor: "5 events at the live property") { await receiver.waitForRequests(5) }
            try await clock.waitForSleeper(until: clock.now() + .seconds(1), waitingFor: "the dead property's first retry")
            #expect(Set(receiver.accepted.map(\.callID)) == Set((1...5).map { "call-\($0)" }))
            #expect(receiver.requests.allSatisfy { $0.problems.isEmpty })
            #expect(try await daemon.ledger.deliveryLog.stats(for: "ga4:down").pending == ids.count, "every change waits for the dead property")
            try await within(.seconds(30), waitingFor: "the live property's sent count") {
                await metrics.waitFor("calltrackd_ga4_events_sent_total", [("property", "main"), ("kind", "call")], 5)
            }
            #expect((metrics.value("calltrackd_ga4_failed_attempts_total", [("property", "down")]) ?? 0) >= 1)
            running.cancel()
            _ = try? await running.value
        }
    }
}
