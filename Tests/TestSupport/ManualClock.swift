import CallTrackCore
import Synchronization

/// A clock tests move by hand: no sleeps, no flakiness.
public final class ManualClock: WallClock {
    private let current: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(secondsSinceEpoch: 1_800_000_000)) {
        current = Mutex(start)
    }

    public func now() -> Timestamp { current.withLock { $0 } }

    public func advance(_ duration: Duration) {
        current.withLock { $0 = $0 + duration }
    }
}
