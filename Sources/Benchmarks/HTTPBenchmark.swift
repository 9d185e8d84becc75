import ArgumentParser
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import Prometheus
import Store

/// Durable allocations over HTTP against the bare echo route of the same daemon, under the same `wrk` load.
struct HTTPBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "http",
        abstract: "Durable allocations/s and p50/p99 over HTTP vs the bare JSON route (target: ≥ 50% of it, p99 ≤ 10 ms).")

    @Option(help: "Concurrent connections.") var connections = 64
    @Option(help: "Seconds per run.") var seconds = 5
    @Option(help: "Rounds of a durable run then a bare run; medians are reported, as this VM's speed drifts within a minute.") var rounds = 3
    @Option(help: "wrk threads.") var threads = 2
    @Option(help: "Pool size (share policy once full, so every request still writes a lease).") var poolSize = 20_000
    @Flag(help: "synchronous=NORMAL instead of FULL (survives a crash, not a power cut).") var normalSync = false
    @Option(help: "The clock in the ids wrk makes: 'milliseconds' as the snippet's, or 'seconds', which puts the ids of one second in random order, as browsers whose clocks disagree would at this rate.")
    var idClock: IDClock = .milliseconds
    @Flag(help: "Also drive, in the same rounds, a second daemon whose allocation path has no per-pool counters (PoolStatsRecorder), and print what the counters cost.")
    var compareStatistics = false

    enum IDClock: String, ExpressibleByArgument, CaseIterable {
        case milliseconds, seconds
    }

    func run() async throws {
        guard let wrk = Self.which("wrk") else {
            throw ValidationError("wrk is not installed: run scripts/bench (installs it) or apt-get install wrk")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-bench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (daemon, server, port) = try await openDaemon(dir: dir, countsPoolAllocations: true)
        // The same daemon without the per-pool counters on the allocation path, driven in the same rounds.
        let uncounted = compareStatistics ? try await openDaemon(dir: dir + "-uncounted", countsPoolAllocations: false) : nil
        defer { if uncounted != nil { try? FileManager.default.removeItem(atPath: dir + "-uncounted") } }

        let script = dir + "/sessions.lua"
        try Self.luaScript.write(toFile: script, atomically: true, encoding: .utf8)
        print("calltrackd-bench http: \(rounds) rounds of wrk -t\(threads) -c\(connections) -d\(seconds)s on each route, pool \(poolSize), ids on a \(idClock.rawValue) clock, synchronous=\(normalSync ? "NORMAL" : "FULL"), release build\(compareStatistics ? ", with and without the per-pool counters" : "")")
        var durables: [Result] = []
        var bares: [Result] = []
        var withoutCounters: [Result] = []
        for round in 1...max(rounds, 1) {
            // Alternating runs: a slow minute of the VM hits both routes, not one. With --compare-statistics the
            // daemon without counters goes first in even rounds, so neither side always runs after the other.
            var runs = [(port, "/v1/sessions", "durable"), (port, "/v1/bench/echo", "bare")]
            if let uncounted {
                let run = (uncounted.port, "/v1/sessions", "durable, no pool counters")
                runs.insert(run, at: round % 2 == 0 ? 0 : 1)
            }
            for (port, path, name) in runs {
                let cpuBefore = ThreadCPU.processSeconds()
                let threadsBefore = ThreadCPU.nanosecondsByThreadName()
                var result = try await Self.offThread { [threads, connections, seconds, idClock] in
                    try Self.wrk(wrk, threads: threads, connections: connections, seconds: seconds, script: script,
                                 url: "http://127.0.0.1:\(port)\(path)", arguments: ["r\(round)", idClock.rawValue])
                }
                result.daemonCPUMicroseconds = (ThreadCPU.processSeconds() - cpuBefore) * 1e6 / Double(max(result.requests, 1))
                let threadsAfter = ThreadCPU.nanosecondsByThreadName()
                result.loopCPUMicroseconds = ThreadCPU.microseconds("event loops", from: threadsBefore, to: threadsAfter, per: result.requests)
                result.writerCPUMicroseconds = ThreadCPU.microseconds(SQLiteStore.writerThreadName, from: threadsBefore, to: threadsAfter, per: result.requests)
                print(result.line("  round \(round) \(name)"))
                switch name {
                case "durable": durables.append(result)
                case "bare": bares.append(result)
                default: withoutCounters.append(result)
                }
            }
        }
        let stored = try await daemon.store.count("lease")
        let transactions = daemon.store.committedTransactions
        server.cancel()
        uncounted?.server.cancel()

        let durable = Result.median(durables)
        let bare = Result.median(bares)
        print(durable.line("durable allocation (POST /v1/sessions), median"))
        print(bare.line("bare JSON route (POST /v1/bench/echo), median"))
        let ratios = zip(durables, bares).map { $0.requestsPerSecond / max($1.requestsPerSecond, 1) }.sorted()
        let ratio = ratios[ratios.count / 2]
        let cpuRatios = zip(durables, bares).map { $1.daemonCPUMicroseconds / max($0.daemonCPUMicroseconds, 1) }.sorted()
        print(String(format: "daemon CPU per request: durable %.1f µs, bare %.1f µs (medians); bare/durable %.1f%% median of the rounds — the ratio the CPU alone allows, steadier than req/s on this VM",
                     durable.daemonCPUMicroseconds, bare.daemonCPUMicroseconds, cpuRatios[cpuRatios.count / 2] * 100))
        print(String(format: "ratio durable/bare: %.1f%% median of the rounds (%@) (target ≥ 50%%); durable p99 %.2f ms median (target ≤ 10 ms)",
                     ratio * 100, ratios.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: ", "), durable.p99Milliseconds))
        let answered = durables.reduce(0) { $0 + $1.requests - $1.errors }
        if !withoutCounters.isEmpty {
            let plain = Result.median(withoutCounters)
            print(plain.line("durable allocation without the per-pool counters, median"))
            let ratios = zip(durables, withoutCounters).map { $0.requestsPerSecond / max($1.requestsPerSecond, 1) }.sorted()
            print(String(format: "per-pool counters: with/without %.1f%% req/s median of the rounds (%@); daemon CPU %.1f vs %.1f µs/request; p99 %.2f vs %.2f ms (target: within the rounds' spread)",
                         ratios[ratios.count / 2] * 100, ratios.map { String(format: "%.1f%%", $0 * 100) }.joined(separator: ", "),
                         durable.daemonCPUMicroseconds, plain.daemonCPUMicroseconds, durable.p99Milliseconds, plain.p99Milliseconds))
        }
        print("leases stored: \(stored) for \(answered) answered allocations (errors: \(durables.reduce(0) { $0 + $1.errors })), in \(transactions) transactions (\(stored / max(transactions, 1)) per commit)")
    }

    /// A daemon on its own data folder, serving on an ephemeral port.
    func openDaemon(dir: String, countsPoolAllocations: Bool) async throws -> (daemon: Daemon, server: Task<Void, any Error>, port: Int) {
        var config = AppConfig()
        config.dataDirectory = dir
        config.httpPort = 0
        config.storage.synchronousFull = !normalSync
        config.api.benchEcho = true
        config.countsPoolAllocations = countsPoolAllocations
        config.perIP = .init(burst: 1e12, perMinute: 1e12)
        config.perVisitor = .init(burst: 1e12, perMinute: 1e12)
        config.sites = [BenchSite.site(pool: "bench-main", numbers: BenchSite.numbers(poolSize), policy: PoolPolicy(onExhaustion: .share))]
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let server = Task { try await daemon.run { port in listening.yield(port) } }
        var port = 0
        for await bound in ports { port = bound; break }
        return (daemon, server, port)
    }

    struct Result {
        var requestsPerSecond: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var requests: Int
        var errors: Int
        /// The daemon's CPU time (all its threads, user + system) during the run, per request answered.
        var daemonCPUMicroseconds: Double = .nan
        /// Of that, the event loops' (HTTP, JSON, the pool) and the store writer's (SQLite, fsync).
        var loopCPUMicroseconds: Double = .nan
        var writerCPUMicroseconds: Double = .nan

        /// Each figure's median on its own (the p99 of the median-throughput run would hide a bad round).
        static func median(_ results: [Result]) -> Result {
            func middle(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            return Result(
                requestsPerSecond: middle(results.map(\.requestsPerSecond)), p50Milliseconds: middle(results.map(\.p50Milliseconds)),
                p99Milliseconds: middle(results.map(\.p99Milliseconds)), requests: results.reduce(0) { $0 + $1.requests },
                errors: results.reduce(0) { $0 + $1.errors }, daemonCPUMicroseconds: middle(results.map(\.daemonCPUMicroseconds)),
                loopCPUMicroseconds: middle(results.map(\.loopCPUMicroseconds)), writerCPUMicroseconds: middle(results.map(\.writerCPUMicroseconds)))
        }

        func line(_ name: String) -> String {
            String(format: "%@: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d non-2xx/errors, daemon CPU %.1f µs/request (event loops %.1f, store writer %.1f)",
                   name, requestsPerSecond, p50Milliseconds, p99Milliseconds, requests, errors, daemonCPUMicroseconds,
                   loopCPUMicroseconds, writerCPUMicroseconds)
        }
    }

    /// Every request a new session of a new visitor, with ids shaped as the snippet makes them (`TimeOrderedID`:
    /// time first, then 12 random base-36 digits). A counter would line up even ids of the same moment and
    /// flatter the store's writes; fully random ids would make it pay for ids no snippet sends.
    /// A realistic landing URL and referrer.
    ///
    /// The ids' order decides how many pages a commit writes: each new session lands in the session and
    /// session-by-visitor indexes where its id sorts. Ids made on a millisecond clock, as the snippet makes
    /// them, sort almost in arrival order, and a commit's rows share a few pages at the indexes' end (strace
    /// of the writer: 22 WAL pages per commit of 20 leases). On a seconds clock the ids of one second are in
    /// random order and each row dirties a page of its own (65 pages per commit of 23 leases), as browsers
    /// whose clocks disagree would at a rate no real site reaches. `--id-clock` picks.
    static let luaScript = #"""
        local ffi = require("ffi")
        ffi.cdef[[
          typedef struct { long tv_sec; long tv_nsec; } ct_timespec;
          int clock_gettime(int clock, ct_timespec *now);
        ]]
        local realtime = ffi.new("ct_timespec")
        local alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
        local threads = 0
        local salt = 0
        local seconds_clock = false
        function setup(thread) thread:set("tid", threads); threads = threads + 1 end
        function init(args)
          for i = 1, #(args[1] or "") do salt = salt * 31 + args[1]:byte(i) end
          math.randomseed(os.time() + tid * 7919 + salt)
          seconds_clock = args[2] == "seconds"
        end
        local function milliseconds()
          if seconds_clock then return os.time() * 1000 end
          ffi.C.clock_gettime(0, realtime)  -- CLOCK_REALTIME, as the snippet's Date.now()
          return tonumber(realtime.tv_sec) * 1000 + math.floor(tonumber(realtime.tv_nsec) / 1000000)
        end
        local function id(prefix)
          local chars = {}
          local ms = milliseconds()
          for i = 9, 1, -1 do local k = ms % 36; chars[i] = alphabet:sub(k + 1, k + 1); ms = math.floor(ms / 36) end
          for i = 10, 21 do local k = math.random(1, 36); chars[i] = alphabet:sub(k, k) end
          return prefix .. "_" .. table.concat(chars)
        end
        function request()
          local body = '{"site":"bench","session_id":"' .. id("s") .. '","visitor_id":"' .. id("v") ..
            '","landing_url":"https://bench.example/catalog?utm_source=google&utm_medium=cpc&utm_campaign=spring",' ..
            '"referrer":"https://www.google.com/"}'
          return wrk.format("POST", nil, {["Content-Type"] = "text/plain", ["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"}, body)
        end
        """#

    /// `arguments` reach the script's `init`: the round's tag (a seed) and the id clock.
    static func wrk(_ wrk: String, threads: Int, connections: Int, seconds: Int, script: String, url: String, arguments: [String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t\(threads)", "-c\(connections)", "-d\(seconds)s", "--latency", "-s", script, url, "--"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return parse(output)
    }

    /// Throughput, p50/p99 and the non-2xx answers of a `wrk --latency` report.
    static func parse(_ output: String) -> Result {
        func number(after label: String) -> Double? {
            guard let range = output.range(of: label) else { return nil }
            let text = output[range.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace }
            return Double(text)
        }
        // Percentiles come after "Latency Distribution" ("75.50%" in the thread stats above would match too).
        let distribution = output.range(of: "Latency Distribution").map { output[$0.upperBound...] } ?? ""
        func milliseconds(after label: String) -> Double {
            guard let range = distribution.range(of: label) else { return .nan }
            let text = String(distribution[range.upperBound...].drop { $0 == " " }.prefix { !$0.isWhitespace })
            for (suffix, scale) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
                return (Double(text.dropLast(suffix.count)) ?? .nan) * scale
            }
            return .nan
        }
        let requests = output.range(of: " requests in ").map { range in
            Int(output[..<range.lowerBound].reversed().prefix { $0.isNumber }.reversed().map(String.init).joined()) ?? 0
        } ?? 0
        let non2xx = Int(number(after: "Non-2xx or 3xx responses:") ?? 0)
        let socketErrors = output.range(of: "Socket errors:") != nil ? 1 : 0
        if socketErrors > 0 { print("wrk reported socket errors:\n\(output)") }
        return Result(
            requestsPerSecond: number(after: "Requests/sec:") ?? 0, p50Milliseconds: milliseconds(after: "50%"),
            p99Milliseconds: milliseconds(after: "99%"), requests: requests, errors: non2xx)
    }

    /// Waits for wrk on a thread of its own: the daemon's tasks run on the event loops, which must not block.
    static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    static func which(_ tool: String) -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let path = "\(dir)/\(tool)"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}
