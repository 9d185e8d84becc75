import NIOPosix
import Testing

/// Runs a suite or test of seconds of pure computation (property tests, simulations) on one thread kept for such
/// work, instead of on the test runner's cooperative pool. That pool has as many threads as cores (two here);
/// a few property tests on it kept every socket and timer test waiting until their bounded waits gave up
/// together. Here the heavy tests take turns on one core, and the rest of the suite keeps the other.
///
/// `@Suite(.cpuBound) struct AllocatorPropertyTests { … }`: `#expect` works as anywhere (it is the same task,
/// only its executor differs).
public struct CPUBoundScope: SuiteTrait, TestTrait, TestScoping {
    public var isRecursive: Bool { true }

    /// One event loop thread, made on first use and kept for the test process's life.
    static let executor = EventLoopTaskExecutor(MultiThreadedEventLoopGroup(numberOfThreads: 1).next())

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(Self.executor) { try await function() }
    }
}

extension Trait where Self == CPUBoundScope {
    public static var cpuBound: Self { CPUBoundScope() }
}
