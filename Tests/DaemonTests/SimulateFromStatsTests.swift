import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Store
import Testing
import TestSupport

/// `calltrackd simulate --from-stats`: a pool's visits as the daemon counted them (allocations over HTTP, the
/// recorder, the statistics writer, SQLite) replayed hour by hour; and a clear refusal when there is nothing
/// to replay.
@Suite("calltrackd simulate --from-stats")
struct SimulateFromStatsTests {
    static func writeConfig(_ dir: TemporaryDirectory, twoPools: Bool = false) throws -> String {
        let path = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [paid-search\(twoPools ? ", organic" : "")] }
            pool:
              paid-search: { numbers: ["+74950000001", "+74950000002", "+74950000003", "+74950000004"], cooldown: 10m }
            \(twoPools ? "  organic: { numbers: [\"+74950000011\"] }" : "")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("visits counted by the running daemon two days ago are replayed visit for visit, in their hours, under the pool's policy")
    func replaysMeasuredHours() async throws {
        let dir = TemporaryDirectory("from-stats")
        defer { dir.remove() }
        let path = try Self.writeConfig(dir)
        let config = try await ConfigLoader.load(file: path, environment: [:])
        // Two days before the hour the command will run in, so that its last 7 days hold the visits.
        let now = SystemClock().now().microsecondsSinceEpoch
        let start = Timestamp(microsecondsSinceEpoch: now - now % 3_600_000_000) - .seconds(2 * 86_400)
        let clock = ManualClock(at: start)
        let visitsPerHour = [3, 7, 0, 2]
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: Logger(label: "test"))
        let storeWriter = Task { await daemon.store.run() }
        defer { storeWriter.cancel() }
        let writer = PoolStatsWriter(recorder: daemon.desk.statistics, store: daemon.statistics, pools: ["paid-search"], clock: clock,
                                     minutesKept: config.statsMinutesKept, hoursKept: config.statsHoursKept, logger: Logger(label: "test"))
        try await daemon.application().test(.live) { client in
            for (hour, visits) in visitsPerHour.enumerated() {
                for visit in 0..<visits {
                    clock.set(start + .seconds(Int64(hour * 3_600 + visit * 300)))
                    let status = try await client.execute(
                        uri: "/v1/sessions", method: .post,
                        headers: [.userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", .contentType: "text/plain"],
                        body: ByteBuffer(string: #"{"site":"acme"}"#)) { $0.status }
                    #expect(status == .ok)
                    // What the lease sweeper and the writer do every few seconds and every minute.
                    daemon.desk.statistics.sample(daemon.book.snapshot(at: clock.now()), cooldowns: ["paid-search": .seconds(600)], at: clock.now())
                    await writer.flush(at: clock.now())
                }
            }
        }
        await writer.flush(at: start + .seconds(5 * 3_600))

        let replay = try await StatsReplay.load(config: config, site: "acme", pool: nil, days: 7, now: start + .seconds(5 * 3_600 + 30))
        #expect(replay.pool.id == "paid-search")
        #expect(replay.measured.hours.count == 7 * 24)
        #expect(Array(replay.measured.hours.suffix(5)) == visitsPerHour + [0])
        #expect(replay.measured.cooldownSeconds == 600)

        // The command, in its own process, on the same state database and the real clock.
        let result = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path, "--pool", "paid-search", "--sizes", "1,20", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)")
        let measured = try #require(answer["measured"] as? [String: Any])
        #expect(measured["pool_id"] as? String == "paid-search")
        #expect(measured["sessions"] as? Int == 12 && measured["busiest_hour_sessions"] as? Int == 7)
        let rows = try #require(answer["rows"] as? [[String: Any]])
        #expect(rows.map { $0["pool_size"] as? Int } == [1, 20])
        #expect(rows.allSatisfy { $0["sessions"] as? Int == 12 && $0["bot_sessions"] as? Int == 0 && $0["days"] as? Int == 7 }, "\(rows)")
        // One number for 7 visits in an hour runs out; twenty never do.
        #expect((rows[0]["exhausted"] as? Int ?? 0) > 0 && rows[1]["exhausted"] as? Int == 0)

        let text = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path, "--sizes", "20"])
        #expect(text.status == 0, "\(text.output)")
        #expect(text.output.contains("Traffic: pool paid-search's own 12 visits from "), "\(text.output)")
    }

    @Test("no state database, no visits in the window, or a pool the config lacks: an error that says what to do, and a failing exit")
    func clearRefusals() async throws {
        let dir = TemporaryDirectory("from-stats-none")
        defer { dir.remove() }
        let path = try Self.writeConfig(dir, twoPools: true)

        let noDatabase = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path, "--pool", "paid-search"])
        #expect(noDatabase.status != 0)
        #expect(noDatabase.output.contains("no state database at \(dir.file("data"))"), "\(noDatabase.output)")

        // A database the daemon made, with another pool's history only.
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        do {
            let store = PoolStatisticsStore(store: try SQLiteStore(path: dir.file("data") + "/state.sqlite", logger: Logger(label: "test")))
            var other = PoolMinute(poolID: "organic", start: SystemClock().now() - .seconds(86_400))
            other.sessions = 5
            try await store.add([other])
        }
        let noHistory = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path, "--pool", "paid-search", "--days", "3"])
        #expect(noHistory.status != 0)
        #expect(noHistory.output.contains("pool paid-search has no visits recorded from "), "\(noHistory.output)")
        #expect(noHistory.output.contains("without --from-stats"), "\(noHistory.output)")

        let ambiguous = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path])
        #expect(ambiguous.status != 0)
        #expect(ambiguous.output.contains("2 pools are configured (paid-search, organic): name the one to replay"), "\(ambiguous.output)")

        let unknown = try await DaemonProcess.run(["simulate", "--from-stats", "--config", path, "--pool", "nope"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("--pool: no pool nope in the config"), "\(unknown.output)")
    }
}
