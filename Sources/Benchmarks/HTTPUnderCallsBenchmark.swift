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

/// Durable allocations over HTTP with and without calls coming in, in one daemon: the lead path must not stall
/// the snippet's requests (its store work runs off the event loops, which only await it).
struct HTTPUnderCallsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http-under-calls",
        abstract: "Durable allocation p99 over HTTP alone vs while calls arrive at --rate/s (target: at most 2 ms more with calls).")

    /// Fewer than `http`'s 64: with 64 connections in a closed loop, p99 is ~2.2× the mean queueing time (tens of ms
    /// on this VM) and hides a stall of a few ms; with 8 the loops are not saturated and a stall shows in p99.
    @Option(help: "Concurrent connections (8: p99 shows a stall of the loops instead of the queue of a saturated daemon).") var connections = 8
    @Option(help: "Seconds per run.") var seconds = 5
    @Option(help: "Rounds of a run alone then a run with calls; medians are reported, as this VM's speed drifts within a minute.") var rounds = 3
    @Option(help: "wrk threads.") var threads = 2
    @Option(help: "Pool size of the allocation site (share policy once full, so every request still writes a lease).") var poolSize = 20_000
    @Option(help: "Calls per second during the runs with calls (each call brings 3 lead changes: ringing, answered, ended).") var rate = 100

    /// The site the calls ring: its own, so the allocations' pool is the `http` benchmark's. The recorded call
    /// dials +7 495 000-00-01.
    static func callSite() throws -> Site {
        Site(id: "calls", defaultNumber: try PhoneNumber.e164("+74950000002"),
             pools: [Pool(id: "calls-main", numbers: [try PhoneNumber.e164("+74950000001")])])
    }

    func run() async throws {
        try await PostgresCluster.with(durable: true) { try await run(on: $0) }
    }

    private func run(on cluster: PostgresCluster) async throws {
        guard let wrk = HTTPBenchmark.which("wrk") else {
            throw ValidationError("wrk is not installed: run scripts/bench (installs it) or apt-get install wrk")
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let fixture = try CallToLeadBenchmark.recordedCall()
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script()])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-huc-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }

        var config = AppConfig()
        config.dataDirectory = dir
        config.httpPort = 0
        config.storage.synchronousFull = true
        config.api.benchEcho = true
        config.perIP = .init(burst: 1e12, perMinute: 1e12)
        config.perVisitor = .init(burst: 1e12, perMinute: 1e12)
        config.leads.minTalkSeconds = 0
        config.sites = [BenchSite.site(pool: "bench-main", numbers: BenchSite.numbers(poolSize), policy: PoolPolicy(onExhaustion: .share)),
                        try Self.callSite()]
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let server = Task { try await daemon.run { port in listening.yield(port) } }
        var port = 0
        for await bound in ports { port = bound; break }
        await fake.waitForAction("Status")  // the client finished its resync: calls can come

        // The calls are prepared before the clock starts: the load generator shares the daemon's two cores.
        let warmUp = 50
        let perRun = rate * seconds + rate  // a second more than the run: the pusher starts before wrk
        let prepared = (0..<(warmUp + perRun * max(rounds, 1))).map { Self.renumbered(fixture.bytes, variant: $0) }
        let interval = Duration.seconds(1) / rate
        var pushed = 0
        // A few calls first: the lead path's first call creates PostgreSQL's tables, which is no steady state.
        for bytes in prepared[0..<warmUp] { try await fake.push(bytes); try await Task.sleep(for: interval) }
        pushed = warmUp

        let script = dir + "/sessions.lua"
        try HTTPBenchmark.luaScript.write(toFile: script, atomically: true, encoding: .utf8)
        print("calltrackd-bench http-under-calls: \(rounds) rounds of wrk -t\(threads) -c\(connections) -d\(seconds)s on POST /v1/sessions alone, then with \(rate) calls/s (recorded call 01-answered, unmatched, leads to PostgreSQL), pool \(poolSize), synchronous=FULL, release build")
        var alone: [HTTPBenchmark.Result] = []
        var withCalls: [HTTPBenchmark.Result] = []
        for round in 1...max(rounds, 1) {
            for loaded in [false, true] {
                var pusher: Task<Int, any Error>?
                if loaded {
                    let calls = Array(prepared[pushed..<(pushed + perRun)])
                    pushed += perRun
                    pusher = Task {
                        var next = ContinuousClock.now
                        var sent = 0
                        for bytes in calls where !Task.isCancelled {
                            try await fake.push(bytes)
                            sent += 1
                            next += interval
                            try? await Task.sleep(until: next, clock: .continuous)
                        }
                        return sent
                    }
                    try await Task.sleep(for: .milliseconds(500))  // the call load is steady before wrk starts
                }
                let cpuBefore = ThreadCPU.processSeconds()
                let threadsBefore = ThreadCPU.nanosecondsByThreadName()
                var result = try await HTTPBenchmark.offThread { [threads, connections, seconds, port] in
                    try HTTPBenchmark.wrk(wrk, threads: threads, connections: connections, seconds: seconds, script: script,
                                          url: "http://127.0.0.1:\(port)/v1/sessions", arguments: ["r\(round)\(loaded)", "milliseconds"])
                }
                result.daemonCPUMicroseconds = (ThreadCPU.processSeconds() - cpuBefore) * 1e6 / Double(max(result.requests, 1))
                let threadsAfter = ThreadCPU.nanosecondsByThreadName()
                result.loopCPUMicroseconds = ThreadCPU.microseconds("event loops", from: threadsBefore, to: threadsAfter, per: result.requests)
                result.writerCPUMicroseconds = ThreadCPU.microseconds(SQLiteStore.writerThreadName, from: threadsBefore, to: threadsAfter, per: result.requests)
                var label = "  round \(round) alone"
                if let pusher {
                    pusher.cancel()
                    label = "  round \(round) with \(try await pusher.value) calls"
                    withCalls.append(result)
                } else {
                    alone.append(result)
                }
                print(result.line(label))
            }
        }
        // Leads still on their way get a few seconds to be stored before the count.
        try await Task.sleep(for: .seconds(2))
        let calls = try await daemon.store.count("call")
        let leads = try await daemon.store.count("lead")
        server.cancel()
        _ = try? await server.value
        await fake.stop()

        let quiet = HTTPBenchmark.Result.median(alone)
        let loaded = HTTPBenchmark.Result.median(withCalls)
        print(quiet.line("durable allocation alone, median"))
        print(loaded.line("durable allocation with \(rate) calls/s, median"))
        let differences = zip(withCalls, alone).map { $0.p99Milliseconds - $1.p99Milliseconds }.sorted()
        let difference = loaded.p99Milliseconds - quiet.p99Milliseconds
        print(String(format: "p99 alone %.2f ms, with calls %.2f ms: %+.2f ms (medians; per round %@) (target ≤ +2 ms: %@)",
                     quiet.p99Milliseconds, loaded.p99Milliseconds, difference,
                     differences.map { String(format: "%+.2f", $0) }.joined(separator: ", "), difference <= 2 ? "MET" : "MISSED"))
        print("calls stored: \(calls), leads: \(leads) (of \(pushed) calls sent)")
    }

    static func renumbered(_ bytes: [UInt8], variant: Int) -> [UInt8] {
        AMIBenchmark.renumbered(bytes, variant: variant)
    }
}
