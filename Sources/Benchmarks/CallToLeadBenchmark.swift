import AMI
import AMIClient
import ArgumentParser
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import PostgresSink
import Prometheus
import TestSupport

/// From the AMI bytes of a call arriving on the socket to its lead committed in PostgreSQL, as a `LISTEN`ing
/// client sees it: the whole daemon in process, a fake Asterisk pushing real recorded calls at a steady rate.
struct CallToLeadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call-to-lead",
        abstract: "Call-to-lead latency p50/p99: AMI bytes in → lead row committed in PostgreSQL (target p99 ≤ 10 ms).")

    @Option(help: "Calls to send.") var calls = 10_000
    @Option(help: "Calls per second (each call brings 3 lead changes: ringing, answered, ended).") var rate = 50

    func run() async throws {
        try await PostgresCluster.with(durable: true) { try await run(on: $0) }
    }

    private func run(on cluster: PostgresCluster) async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let fixture = try Self.recordedCall()
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script()])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-c2l-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var config = AppConfig()
        config.dataDirectory = dir
        config.httpPort = 0
        config.leads.minTalkSeconds = 0
        config.sites = [Site(id: "bench", defaultNumber: try PhoneNumber.e164("+74950000000"),
                             pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001")])])]
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let server = Task { try await daemon.run() }
        await fake.waitForAction("Status")  // the client finished its resync: calls can come

        let listener = PostgresConnection(cluster.connectionString(), logger: logger)
        defer { listener.close() }
        // The daemon migrates the schema as it starts delivering; LISTEN needs no table.
        try await listener.listen("calltrack_lead")
        let sent = Locked<[String: ContinuousClock.Instant]>([:])
        let total = calls
        let collector = Task { () -> [Duration] in
            var seen: Set<String> = []
            var latencies: [Duration] = []
            for await notification in listener.notifications {
                let now = ContinuousClock.now
                guard seen.insert(notification.payload).inserted, let start = sent.withLock({ $0[notification.payload] }) else { continue }
                latencies.append(now - start)
                if latencies.count == total { break }
            }
            return latencies
        }
        print("calltrackd-bench call-to-lead: \(calls) calls at \(rate)/s, recorded call 01-answered, PostgreSQL fsync on, release build")
        // The calls are prepared before the clock starts: the load generator shares the daemon's two cores.
        let prepared = (0..<calls).map { (bytes: Self.renumbered(fixture.bytes, variant: $0), id: fixture.callID(variant: $0)) }
        let interval = Duration.seconds(1) / rate
        var next = ContinuousClock.now
        for (index, call) in prepared.enumerated() {
            sent.withLock { $0[call.id] = ContinuousClock.now }
            try await fake.push(call.bytes)
            if (index + 1) % max(1, calls / 10) == 0 { print("  sent \(index + 1) calls") }
            next += interval
            try await Task.sleep(until: next, clock: .continuous)
        }
        // Leads still on their way get a minute; then the figure is taken over those that arrived.
        let deadline = Task { try await Task.sleep(for: .seconds(60)); collector.cancel() }
        let latencies = await collector.value.sorted()
        deadline.cancel()
        server.cancel()
        _ = try? await server.value
        await fake.stop()
        guard !latencies.isEmpty else { throw ValidationError("no lead arrived in PostgreSQL") }
        func percentile(_ p: Double) -> Double {
            let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
            return Double(value.components.attoseconds) / 1e15 + Double(value.components.seconds) * 1000
        }
        print(String(format: "leads in PostgreSQL: %d of %d calls", latencies.count, calls))
        print(String(format: "call-to-lead latency: p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 ≤ 10 ms: %@)",
                     percentile(0.5), percentile(0.9), percentile(0.99), percentile(1), percentile(0.99) <= 10 ? "MET" : "MISSED"))
    }

    struct RecordedCall {
        var bytes: [UInt8]
        var linkedID: String
        func callID(variant: Int) -> String {
            String(decoding: CallToLeadBenchmark.renumbered(Array(linkedID.utf8), variant: variant), as: UTF8.self)
        }
    }

    /// Fixture 01: one answered call, without the login before it and the client's logoff after it.
    static func recordedCall() throws -> RecordedCall {
        let fixture = try AMIFixtures.load("01-answered")
        guard var bytes = fixture.bytesAfterLogin, let call = fixture.expectation.calls.first else {
            throw ValidationError("fixture 01-answered has no login or no call")
        }
        if let goodbye = bytes.firstRange(of: Array("Response: Goodbye".utf8)) { bytes = Array(bytes[..<goodbye.lowerBound]) }
        return RecordedCall(bytes: bytes, linkedID: call.linkedid)
    }

    /// Every Uniqueid and Linkedid gets its own epoch part per copy, so each copy is a new call.
    static func renumbered(_ bytes: [UInt8], variant: Int) -> [UInt8] {
        AMIBenchmark.renumbered(bytes, variant: variant)
    }
}
