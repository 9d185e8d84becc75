import ArgumentParser
import CallTrackCore
import Foundation
import Logging
import Store

/// The store alone: the writes of one allocation each (a session row and its lease), from many concurrent
/// callers, through group commit with `synchronous=FULL`. No HTTP, so the writer thread is the bottleneck
/// and its CPU per lease, the serial step of every durable allocation, can be compared between builds.
struct StoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Durable leases/s of the SQLite store alone and the writer thread's CPU per lease (the serial step of an allocation).")

    @Option(help: "Concurrent callers, as the HTTP benchmark's connections.") var callers = 64
    @Option(help: "Seconds per round.") var seconds = 5
    @Option(help: "Rounds; medians are reported.") var rounds = 3
    @Option(help: "Pool size: the numbers the leases spread over.") var poolSize = 20_000

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-store-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let store = try SQLiteStore(path: dir + "/state.sqlite", logger: logger)
        let service = Task { await store.run() }
        let numbers = BenchSite.numbers(poolSize)

        print("calltrackd-bench store: \(rounds) rounds of \(seconds) s, \(callers) callers, pool \(poolSize), synchronous=FULL, release build")
        var results: [Round] = []
        for round in 1...max(rounds, 1) {
            let result = try await Self.round(store: store, numbers: numbers, callers: callers, seconds: seconds)
            print(result.line("  round \(round)"))
            results.append(result)
        }
        service.cancel()
        await service.value
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        print(String(format: "median: %.0f leases/s, writer thread %.1f µs CPU per lease, process %.1f µs per lease, p99 commit wait %.2f ms",
                     median(results.map(\.leasesPerSecond)), median(results.map(\.writerMicroseconds)),
                     median(results.map(\.processMicroseconds)), median(results.map(\.p99Milliseconds))))
    }

    struct Round {
        var leasesPerSecond: Double
        var writerMicroseconds: Double
        var processMicroseconds: Double
        var p50Milliseconds: Double
        var p99Milliseconds: Double
        var leasesPerCommit: Double

        func line(_ name: String) -> String {
            String(format: "%@: %.0f leases/s, %.1f per commit, commit wait p50 %.2f ms p99 %.2f ms; CPU per lease: writer thread %.1f µs, process %.1f µs",
                   name, leasesPerSecond, leasesPerCommit, p50Milliseconds, p99Milliseconds, writerMicroseconds, processMicroseconds)
        }
    }

    static func round(store: SQLiteStore, numbers: [PhoneNumber], callers: Int, seconds: Int) async throws -> Round {
        let threadsBefore = ThreadCPU.nanosecondsByThreadName()
        let processBefore = ThreadCPU.processSeconds()
        let commitsBefore = store.committedTransactions
        let start = ContinuousClock.now
        let deadline = start + .seconds(seconds)
        let waits = try await withThrowingTaskGroup(of: [Duration].self) { group in
            for _ in 0..<callers {
                group.addTask {
                    var generator = SystemRandomNumberGenerator()
                    var waits: [Duration] = []
                    while ContinuousClock.now < deadline {
                        // A random number: each lease lands on its own page of lease_by_number, as in a real pool
                        // with months of history (the HTTP benchmark's share policy hands them out in order).
                        let number = numbers[Int.random(in: 0..<numbers.count, using: &generator)]
                        let writes = allocationWrites(number: number, using: &generator)
                        let sent = ContinuousClock.now
                        try await store.apply(writes)
                        waits.append(ContinuousClock.now - sent)
                    }
                    return waits
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }.sorted()
        }
        let elapsed = ContinuousClock.now - start
        let leases = Double(waits.count)
        func milliseconds(_ q: Double) -> Double {
            waits.isEmpty ? .nan : Double(waits[min(waits.count - 1, Int(Double(waits.count) * q))].microseconds) / 1e3
        }
        return Round(
            leasesPerSecond: leases / (Double(elapsed.microseconds) / 1e6),
            writerMicroseconds: ThreadCPU.microseconds(SQLiteStore.writerThreadName, from: threadsBefore, to: ThreadCPU.nanosecondsByThreadName(), per: waits.count),
            processMicroseconds: (ThreadCPU.processSeconds() - processBefore) * 1e6 / max(leases, 1),
            p50Milliseconds: milliseconds(0.5), p99Milliseconds: milliseconds(0.99),
            leasesPerCommit: leases / Double(max(store.committedTransactions - commitsBefore, 1)))
    }

    /// What `SessionDesk` writes for a new visit from an ad: a session row with its source and a lease.
    static func allocationWrites(number: PhoneNumber, using generator: inout SystemRandomNumberGenerator) -> [StateWrite] {
        let now = SystemClock().now()
        let sessionID = TimeOrderedID.make(prefix: "s", at: now, using: &generator)
        let visitorID = TimeOrderedID.make(prefix: "v", at: now, using: &generator)
        let source = MarketingSource(
            utmSource: "google", utmMedium: "cpc", utmCampaign: "spring",
            referrer: "https://www.google.com/", landingURL: "https://bench.example/catalog?utm_source=google&utm_medium=cpc&utm_campaign=spring",
            channel: .paidSearch)
        let session = SessionRecord(
            id: sessionID, visitorID: visitorID, siteID: "bench", startedAt: now, lastActivityAt: now, source: source,
            userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", clientNetwork: "127.0.0.0",
            number: number, kind: .pool)
        let lease = Lease(poolID: "bench-main", number: number, sessionID: sessionID, visitorID: visitorID,
                          startedAt: now, lastActivityAt: now, expiresAt: now + .seconds(20 * 60))
        return [.session(session), .lease(lease)]
    }
}
