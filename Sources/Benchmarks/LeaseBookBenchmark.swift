import ArgumentParser
import CallTrackCore
import Foundation

/// `calltrackd-bench lease-book`: what the event loops spend under the lease book's lock, on pools of 1,000
/// to 100,000 numbers filled to 80%.
///
/// - An allocation (`LeaseBook.assign`): the lock, the bot and flood checks, the site rules and the pool
///   allocator — the whole step, where `allocator` times the pool allocator alone.
/// - The lease sweeper's pass (`LeaseBook.snapshot`: ends the leases whose time is up and counts each
///   pool, every `leases.sweep_interval`). No allocation on any loop proceeds while it runs, so its time is
///   a stall of every visitor's request.
struct LeaseBookBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lease-book",
        abstract: "LeaseBook.assign and the sweeper's pass under the lease book's lock, on pools of 1,000 to 100,000 numbers.")

    @Option(help: "Sweeper passes timed per pool size.") var passes = 200

    func run() async throws {
        print("lease-book: allocations filling 80% of the pool, then the sweeper's pass (LeaseBook.snapshot); thread CPU time")
        for size in [1_000, 10_000, 100_000] {
            let site = BenchSite.site(pool: "main", numbers: BenchSite.numbers(size), policy: PoolPolicy())
            let book = LeaseBook(sites: [site], flood: FloodGuard(perIP: .init(burst: 1e12, perMinute: 1e12), perVisitor: .init(burst: 1e12, perMinute: 1e12)))
            var now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
            var random = SystemRandomNumberGenerator()
            var allocation = Duration.zero
            let leased = size * 4 / 5
            for _ in 0..<leased {
                let request = AllocationRequest(siteID: site.id, sessionID: TimeOrderedID.make(prefix: "s", at: now, using: &random),
                                                visitorID: TimeOrderedID.make(prefix: "v", at: now, using: &random))
                let start = ThreadTime.now()
                _ = try book.assign(request, at: now)
                allocation += ThreadTime.now() - start
                now = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 1_000)
            }
            var total = Duration.zero
            var slowest = Duration.zero
            for _ in 0..<passes {
                let start = ThreadTime.now()
                _ = book.snapshot(at: now)
                let spent = ThreadTime.now() - start
                total += spent
                slowest = max(slowest, spent)
                now = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + 1_000)
            }
            print(String(format: "  pool %6d, %6d live: allocation %.2f µs; sweeper's pass mean %.1f µs, slowest %.1f µs",
                         size, leased, Double(allocation.microseconds) / Double(leased),
                         Double(total.microseconds) / Double(passes), Double(slowest.microseconds)))
        }
    }
}
