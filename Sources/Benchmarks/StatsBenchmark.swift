import ArgumentParser
import CallTrackApp
import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import Prometheus
import Store
import TestSupport

/// `GET /v1/admin/stats` over a real socket with a month of minute buckets for many pools, against a small
/// admin answer from memory (`GET /v1/admin/pools`) of the same daemon under the same wrk load.
struct StatsBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "GET /v1/admin/stats latency with 30 days of minute buckets for 20 pools (target: p99 ≤ 50 ms).")

    @Option(help: "Pools (each with a bucket for every minute).") var pools = 20
    @Option(help: "Days of minute buckets stored, ending now.") var days = 30
    @Option(help: "Seconds of wrk per query.") var seconds = 5
    @Option(help: "Rounds of every query; medians are reported.") var rounds = 3

    static let token = "bench-stats-token-0123456789abcdef"

    func run() async throws {
        guard let wrk = HTTPBenchmark.which("wrk") else {
            throw ValidationError("wrk is not installed: run scripts/bench (installs it) or apt-get install wrk")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-bench-\(UUID().uuidString.prefix(8))").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = AppConfig()
        config.dataDirectory = dir
        config.httpPort = 0
        config.api.adminToken = Self.token
        let poolIDs = (1...max(pools, 1)).map { String(format: "bench-%02d", $0) }
        let numbers = BenchSite.numbers(poolIDs.count * 50)
        var site = BenchSite.site(pool: poolIDs[0], numbers: [], policy: PoolPolicy())
        site.pools = poolIDs.enumerated().map { index, id in
            Pool(id: id, numbers: Array(numbers[(index * 50)..<((index + 1) * 50)]), policy: PoolPolicy())
        }
        config.sites = [site]
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)

        let now = SystemClock().now()
        let filling = ContinuousClock.now
        let rows = try await Self.fill(daemon.statistics, pools: poolIDs, days: days, now: now)
        let size = (try? FileManager.default.attributesOfItem(atPath: config.databasePath)[.size] as? Int) ?? 0
        print("calltrackd-bench stats: \(rows) minute buckets (\(poolIDs.count) pools × \(days) days) stored in \(String(format: "%.1f", (ContinuousClock.now - filling).secondsDouble)) s, database \(size / 1_048_576) MB; wrk -t1 -c1 -d\(seconds)s per query, \(rounds) rounds, release build")

        try await Self.phases(store: PoolStatisticsStore(store: daemon.store), cached: daemon.statistics, pools: poolIDs, now: now)

        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let server = Task { try await daemon.run { port in listening.yield(port) } }
        var port = 0
        for await bound in ports { port = bound; break }

        let monthAgo = (now - .seconds(Int64(days) * 86_400)).iso8601
        let dayAgo = (now - .seconds(86_400)).iso8601
        // A name ending in "(diagnostic)" has no target.
        let queries: [(name: String, path: String)] = [
            ("baseline GET /v1/admin/pools", "/v1/admin/pools"),
            ("stats, default: \(poolIDs.count) pools' summaries, 7 days", "/v1/admin/stats"),
            ("stats: \(poolIDs.count) pools' summaries, \(days) days", "/v1/admin/stats?from=\(monthAgo)"),
            ("stats: one pool, \(days) days by the hour", "/v1/admin/stats?pool=\(poolIDs[0])&from=\(monthAgo)"),
            ("stats: one pool, 1 day by the minute", "/v1/admin/stats?pool=\(poolIDs[0])&step=minute&from=\(dayAgo)"),
            ("stats: one pool, 7 days by the minute (diagnostic)", "/v1/admin/stats?pool=\(poolIDs[0])&step=minute"),
            // What the default answer was before it left out the series: every pool's week, hour by hour.
            ("stats: the site's \(poolIDs.count) pools with series, 7 days by the hour (diagnostic)", "/v1/admin/stats?site=bench"),
        ]
        var results: [String: [HTTPBenchmark.Result]] = [:]
        for round in 1...max(rounds, 1) {
            for query in queries {
                let result = try await Self.wrk(wrk, seconds: seconds, url: "http://127.0.0.1:\(port)\(query.path)")
                print(String(format: "  round %d %@: %.0f req/s, p50 %.2f ms, p99 %.2f ms, %d requests, %d non-2xx",
                             round, query.name, result.requestsPerSecond, result.p50Milliseconds, result.p99Milliseconds, result.requests, result.errors))
                results[query.name, default: []].append(result)
            }
        }
        server.cancel()
        let baseline = HTTPBenchmark.Result.median(results[queries[0].name] ?? [])
        for query in queries {
            let median = HTTPBenchmark.Result.median(results[query.name] ?? [])
            let target = query.path == queries[0].path || query.name.hasSuffix("(diagnostic)") ? "" : median.p99Milliseconds <= 50 ? " (target p99 ≤ 50 ms: met)" : " (target p99 ≤ 50 ms: MISSED)"
            print(String(format: "%@: p50 %.2f ms, p99 %.2f ms (median of rounds), %.1f× the baseline's p50%@",
                         query.name, median.p50Milliseconds, median.p99Milliseconds,
                         median.p50Milliseconds / max(baseline.p50Milliseconds, 0.001), target))
        }
    }

    /// Stores a bucket for every minute of every pool through the statistics store's own write, one pool-day
    /// per transaction: office-hours traffic, live leases following it, a call now and then, a late one rarely.
    static func fill(_ store: any PoolHistory, pools: [String], days: Int, now: Timestamp) async throws -> Int {
        var random = SeededRandom(seed: 25)
        let lastMinute = now.microsecondsSinceEpoch - now.microsecondsSinceEpoch % 60_000_000
        let first = lastMinute - Int64(days) * 86_400_000_000
        var rows = 0
        for pool in pools {
            for day in 0..<days {
                var minutes: [PoolMinute] = []
                minutes.reserveCapacity(1_440)
                for minute in 0..<1_440 {
                    let start = first + (Int64(day) * 1_440 + Int64(minute)) * 60_000_000
                    let hour = Int(start / 3_600_000_000 % 24)
                    var bucket = PoolMinute(poolID: pool, start: Timestamp(microsecondsSinceEpoch: start))
                    bucket.size = 50
                    bucket.sessions = random.poisson(mean: TrafficProfile.officeHours[hour] / 6)
                    bucket.exhaustions = bucket.sessions > 3 ? 1 : 0
                    bucket.allocations = bucket.sessions - bucket.exhaustions
                    bucket.shared = 0
                    let live = min(50, Int(TrafficProfile.officeHours[hour] * 3) + Int.random(in: 0...3, using: &random))
                    bucket.liveSum = live * 12
                    bucket.liveSamples = 12
                    bucket.livePeak = min(50, live + 2)
                    bucket.cooldownSeconds = 900
                    if random.chance(0.05) { bucket.calls[.exact] = 1 }
                    if random.chance(0.005) {
                        bucket.calls[.late] = 1
                        bucket.lateGaps = [Double.random(in: 0...1_800, using: &random)]
                    }
                    minutes.append(bucket)
                }
                try await store.add(minutes)
                rows += minutes.count
            }
        }
        return rows
    }

    /// The default answer's work in process, phase by phase (no HTTP): the store's read (and the same read with
    /// the daemon's hours held in memory), the answer built from the buckets (summaries and series), and its JSON;
    /// median and slowest of 30 answers, in the process's CPU time (the reads run on the store's threads) and wall time.
    static func phases(store: PoolStatisticsStore, cached: any PoolHistory, pools: [String], now: Timestamp) async throws {
        let from = now - .seconds(7 * 86_400)
        let asked = pools.map { (site: "bench", pool: $0) }
        var times: [String: [(cpu: Double, wall: Duration)]] = [:]
        func timed<T>(_ phase: String, _ body: () async throws -> T) async rethrows -> T {
            let (cpu, wall) = (ThreadCPU.processSeconds(), ContinuousClock.now)
            let value = try await body()
            times[phase, default: []].append((ThreadCPU.processSeconds() - cpu, ContinuousClock.now - wall))
            return value
        }
        var buckets = 0, bytes = 0, summaryBytes = 0
        _ = try await cached.hours(pools: pools, from: from, to: now)
        for _ in 0..<30 {
            let found = try await timed("store read") { try await store.hours(pools: pools, from: from, to: now) }
            _ = try await timed("read, hours held") { try await cached.hours(pools: pools, from: from, to: now) }
            let answer = await timed("answer built") { StatsAnswer(pools: asked, from: from, to: now, hourly: true, series: true, buckets: found) }
            let json = try await timed("JSON encoded") { try JSONEncoder.api.encode(answer) }
            let summaries = await timed("summaries built") { StatsAnswer(pools: asked, from: from, to: now, hourly: true, series: false, buckets: found) }
            let summaryJSON = try await timed("summaries encoded") { try JSONEncoder.api.encode(summaries) }
            buckets = found.count
            bytes = json.count
            summaryBytes = summaryJSON.count
        }
        print("  \(pools.count) pools' week in process (\(buckets) buckets read; \(bytes / 1_024) KiB of JSON with every series, \(summaryBytes / 1_024) KiB of summaries alone), median / slowest of 30:")
        for phase in ["store read", "read, hours held", "answer built", "JSON encoded", "summaries built", "summaries encoded"] {
            let cpu = (times[phase] ?? []).map(\.cpu).sorted(), wall = (times[phase] ?? []).map(\.wall).sorted()
            print(String(format: "    %@: CPU %.2f / %.2f ms, wall %.2f / %.2f ms", phase, cpu[cpu.count / 2] * 1_000, cpu[cpu.count - 1] * 1_000,
                         wall[wall.count / 2].secondsDouble * 1_000, wall[wall.count - 1].secondsDouble * 1_000))
        }
    }

    static func wrk(_ wrk: String, seconds: Int, url: String) async throws -> HTTPBenchmark.Result {
        let run = try await Subprocess.run(wrk, ["-t1", "-c1", "-d\(seconds)s", "--latency", "-H", "Authorization: Bearer \(token)", url])
        return HTTPBenchmark.parse(String(decoding: run.output, as: UTF8.self))
    }
}
