import ArgumentParser
import NIOCore
import NIOPosix

/// `swift run -c release calltrackd-bench <benchmark>`: each benchmark prints figures a reviewer can compare.
/// Add a benchmark as its own file with an `AsyncParsableCommand` and list it here.
@main
enum BenchEntry {
    static func main() async {
        // The same executor set-up as the daemon: tasks run on the NIO event loops, no hop per request.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Bench.main()
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calltrackd-bench",
        abstract: "Release-mode benchmarks of calltrackd; each prints its figures and the target it is held to.",
        subcommands: [
            HTTPBenchmark.self,
            AllocatorBenchmark.self,
            AMIBenchmark.self,
            LeadDeliveryBenchmark.self,
            CallToLeadBenchmark.self,
            AGIBenchmark.self,
            HTTPUnderCallsBenchmark.self,
            LeaseBookBenchmark.self,
            StoreBenchmark.self,
            FloodGuardBenchmark.self,
            StatsBenchmark.self,
            WebhookBenchmark.self,
            SlowWebhookBenchmark.self,
        ]
    )
}
