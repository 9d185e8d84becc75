#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The machine's wall clock: the one production `WallClock`. Domain code never calls it; the wiring
/// hands it in, and tests hand in a manual clock instead.
public struct SystemClock: WallClock {
    public init() {}

    public func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(microsecondsSinceEpoch: Int64(spec.tv_sec) * 1_000_000 + Int64(spec.tv_nsec) / 1000)
    }

    /// Measured on the monotonic clock: stepping the wall clock (NTP, an operator) neither stretches
    /// nor cuts a timer.
    public func sleep(for duration: Duration) async throws {
        try await Task.sleep(for: duration)
    }
}
