import CallTrackCore
import Synchronization

/// A `WallClock` that moves only when a test moves it: no sleeps, no flaky timing.
///
/// ```swift
/// let clock = ManualClock(at: .seconds(1_700_000_000))
/// clock.advance(by: .seconds(20 * 60))   // the idle TTL has passed
/// ```
/// A class behind a `Mutex` so that the code under test and the test can share one clock
/// across tasks; time never goes backwards unless the test sets it explicitly.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    public init(at start: Timestamp = Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    /// Moves the clock forward (a negative duration is refused: use `set(_:)` to go back on purpose).
    @discardableResult
    public func advance(by duration: Duration) -> Timestamp {
        precondition(duration >= .zero, "ManualClock.advance(by:) takes a non-negative duration")
        return current.withLock { now in
            now = now + duration
            return now
        }
    }

    /// Sets the clock to any time, earlier ones included (a wall clock can be stepped back by NTP).
    public func set(_ time: Timestamp) {
        current.withLock { $0 = time }
    }
}

extension Timestamp {
    /// A timestamp `seconds` after the epoch, for readable test data.
    public static func seconds(_ seconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: seconds * 1_000_000)
    }
}
