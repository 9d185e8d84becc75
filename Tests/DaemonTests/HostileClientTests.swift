import CallTrackApp
import CallTrackCore
import Foundation
import FoundationNetworking
import Prometheus
import Testing
import TestSupport

/// Clients that open connections and send nothing, or a request head one byte at a time, must not keep
/// the daemon's connections, nor its descriptors, for ever.
@Suite("Hostile clients")
struct HostileClientTests {
    @Test("2,000 idle connections, and a keep-alive one after its answer, are closed after http.idle_timeout")
    func idleConnectionsClosed() async throws {
        let dir = TemporaryDirectory("idle")
        defer { dir.remove() }
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.httpIdleTimeout = .seconds(1)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }

        let silent = try RawConnections(count: 2_000, port: port)
        let keepAlive = try RawConnections(count: 1, port: port, greeting: Array("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        let started = ContinuousClock.now
        #expect(await silent.closedByServer(within: .seconds(30)) == 2_000)
        #expect(await keepAlive.closedByServer(within: .seconds(10)) == 1)
        #expect(ContinuousClock.now - started < .seconds(25))
    }

    @Test("under ulimit -n 1024, 1,100 clients sending a request head a byte at a time leave /healthz and allocation answering, and the daemon alive")
    func slowlorisAtTheDescriptorLimit() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/calltrackd.example.yaml").path
        let dir = TemporaryDirectory("slowloris")
        defer { dir.remove() }
        let daemon = try await DaemonProcess(
            // The example serves FastAGI on 4573: an ephemeral port instead, so a suite running beside this one (another
            // checkout's) cannot take it and stop the daemon before the test talks to it.
            config: example, environment: ["CALLTRACKD_DATA_DIR": dir.path, "CALLTRACKD_HTTP_IDLE_TIMEOUT": "2s", "CALLTRACKD_AGI_PORT": "0"],
            descriptorLimit: 1024)
        defer { daemon.killNow() }

        let slow = try RawConnections(count: 1_100, port: daemon.port, greeting: Array("POST /v1/sessions HTTP/1.1\r\nHo".utf8))
        let trickling = Task.detached {
            for byte in Array("st: a\r\nX-Slow: 1".utf8) {
                try await Task.sleep(for: .milliseconds(500))
                slow.trickle([byte])
            }
        }
        defer { trickling.cancel() }

        let health = try await within(.seconds(30), waitingFor: "/healthz while 1,100 slow clients hold connections") {
            var request = URLRequest(url: URL(string: daemon.baseURL + "/healthz")!)
            request.timeoutInterval = 25
            let (_, response) = try await OpenAPIConformance.data(for: request)
            return response.statusCode
        }
        #expect(health == 200)
        let allocation = await daemon.post("/v1/sessions", #"{"site":"acme","landing_url":"https://acme.example/?utm_source=google"}"#)
        #expect(allocation?.status == 200, "\(daemon.log.suffix(2000))")
        #expect(allocation?.body["number"] as? String != nil)
        #expect(await slow.closedByServer(within: .seconds(20)) == 1_100, "every slow client is cut off")
        #expect(!daemon.log.contains("Too many open files"), "\(daemon.log.suffix(2000))")
        // Still alive and answering once the slow clients are gone.
        #expect(await daemon.post("/v1/sessions", #"{"site":"acme"}"#)?.status == 200)
    }
}
