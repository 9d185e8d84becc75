import ArgumentParser
import CallTrackCore
import Foundation

/// `calltrackd-bench flood-guard`: the per-IP and per-visitor limits alone, under a stream of new visitors.
///
/// Every allocation passes through `FloodGuard.admit` under the lease book's lock, so its slowest call
/// stalls both event loops. The guard remembers every client of the last few minutes: at the http bench's
/// rate that is over a million. The figures are the mean cost of an admit, the slowest single admit (when
/// the guard forgets old clients, or a table grows), the clients it holds, and the memory they take. The
/// first million fills the tables from empty; the millions after it are the steady state.
struct FloodGuardBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flood-guard",
        abstract: "FloodGuard.admit under a stream of new visitors: mean and slowest admit, clients held, memory.")

    @Option(help: "Admits timed (each a new visitor).") var admits = 4_000_000
    @Option(help: "New visitors per second of the simulated clock.") var rate = 10_000
    @Option(help: "Distinct client IPs they come from.") var ips = 50_000

    func run() async throws {
        // The daemon's default per-visitor limit, whose 2-minute refill sets how long clients are remembered.
        // The per-IP limit is lifted: 50,000 IPs sending 10,000 new visitors a second would be refused.
        var guardian = FloodGuard(perIP: .init(burst: 1e9, perMinute: 1e9), perVisitor: .init(burst: 10, perMinute: 5))
        let batch = 100_000
        let ipStrings = (0..<ips).map { "10.\($0 >> 16).\(($0 >> 8) & 255).\($0 & 255)" }
        var now = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
        let step = Int64(1_000_000 / max(rate, 1))
        var random = SystemRandomNumberGenerator()
        let baseline = try ResidentMemory.bytes()
        var total = Duration.zero
        var slowest = Duration.zero
        var slowestOfStretch = Duration.zero
        var refused = 0
        var done = 0
        print("flood-guard: \(admits) new visitors at \(rate)/s of simulated time from \(ips) IPs, default per-visitor limit, no per-IP limit (thread CPU time)")
        while done < admits {
            let n = min(batch, admits - done)
            // Fresh strings, as decoded from requests; made outside the timed loop.
            let visitors = (0..<n).map { _ in TimeOrderedID.make(prefix: "v", at: now, using: &random) }
            for i in 0..<n {
                now = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + step)
                let start = ThreadTime.now()
                let admitted = guardian.admit(ip: ipStrings[(done + i) % ips], visitor: visitors[i], at: now)
                let spent = ThreadTime.now() - start
                total += spent
                slowestOfStretch = max(slowestOfStretch, spent)
                if !admitted { refused += 1 }
            }
            done += n
            if done % 1_000_000 == 0 || done == admits {
                let rss = Double(try ResidentMemory.bytes() - baseline) / 1_048_576
                print(String(format: "  %8d admits: clients held %8d, RSS +%.1f MB, slowest admit of the last million %.2f ms",
                             done, guardian.trackedClients, rss, Double(slowestOfStretch.microseconds) / 1_000))
                slowest = max(slowest, slowestOfStretch)
                slowestOfStretch = .zero
            }
        }
        let mean = Double(total.microseconds) * 1_000 / Double(admits)
        print(String(format: "mean %.0f ns/admit (timer included), slowest %.2f ms, refused %d", mean, Double(slowest.microseconds) / 1_000, refused))
    }
}
