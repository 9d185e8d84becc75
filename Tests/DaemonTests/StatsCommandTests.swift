import CallTrackCore
import Foundation
import Logging
import Store
import Testing
import TestSupport

/// `calltrackd stats`: what the stored statistics say, per configured pool, the sentence first.
@Suite("calltrackd stats")
struct StatsCommandTests {
    @Test("a pool whose busiest hour needs more numbers than it has: the sentence says how many to add; --json gives the summary")
    func sentenceFirst() async throws {
        let dir = TemporaryDirectory("stats-command")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [paid-search] }
            pool:
              paid-search: { numbers: ["+74950000001", "+74950000002", "+74950000003"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        // An hour two days ago: 120 visits, 3 numbers always full, 30 of the visits found none.
        let now = SystemClock().now()
        let hourStart = now - .seconds(2 * 86_400)
        let minutes = (0..<60).map { n -> PoolMinute in
            var m = PoolMinute(poolID: "paid-search", start: hourStart + .seconds(Int64(n) * 60 - hourStart.microsecondsSinceEpoch / 1_000_000 % 60))
            m.size = 3
            m.sessions = 2
            m.allocations = n % 2 == 0 ? 2 : 1
            m.exhaustions = m.sessions - m.allocations
            m.liveSum = 3
            m.liveSamples = 1
            m.livePeak = 3
            m.cooldownSeconds = 900
            return m
        }
        do {
            let store = PoolStatisticsStore(store: try SQLiteStore(path: dir.file("data") + "/state.sqlite", logger: Logger(label: "test")))
            try await store.add(minutes)
        }
        let text = try await DaemonProcess.run(["stats", "--config", config])
        #expect(text.status == 0, "\(text.output)")
        let first = try #require(text.output.split(separator: "\n").first.map(String.init))
        #expect(first.hasPrefix("Pool paid-search needs "), "\(text.output)")
        #expect(first.hasSuffix("(has 3): add \(Int(first.split(separator: " ")[3])! - 3)."), "\(first)")
        let json = try await DaemonProcess.run(["stats", "--config", config, "--json"])
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any])
        #expect(summary["sessions"] as? Int == 120)
        #expect(summary["exhaustions"] as? Int == 30)
    }
}
