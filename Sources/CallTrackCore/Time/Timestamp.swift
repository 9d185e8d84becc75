/// A point in wall-clock time, in microseconds since the Unix epoch.
///
/// The domain never reads a clock itself: callers pass `Timestamp`s in, so tests
/// drive time with a manual clock and replays keep the times Asterisk stamped.
public struct Timestamp: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var microsecondsSinceEpoch: Int64

    public init(microsecondsSinceEpoch: Int64) {
        self.microsecondsSinceEpoch = microsecondsSinceEpoch
    }

    public init(secondsSinceEpoch: Double) {
        self.microsecondsSinceEpoch = Int64((secondsSinceEpoch * 1_000_000).rounded())
    }

    public static let epoch = Timestamp(microsecondsSinceEpoch: 0)

    public var secondsSinceEpoch: Double { Double(microsecondsSinceEpoch) / 1_000_000 }
    public var millisecondsSinceEpoch: Int64 { microsecondsSinceEpoch / 1_000 }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.microsecondsSinceEpoch < rhs.microsecondsSinceEpoch
    }

    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: lhs.microsecondsSinceEpoch + rhs.microseconds)
    }

    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: lhs.microsecondsSinceEpoch - rhs.microseconds)
    }

    /// The time from `rhs` to `lhs` (negative when `lhs` is earlier).
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .microseconds(lhs.microsecondsSinceEpoch - rhs.microsecondsSinceEpoch)
    }

    public var description: String { "\(secondsSinceEpoch)" }
}

extension Duration {
    /// Whole microseconds, truncated toward zero.
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    public var secondsDouble: Double { Double(microseconds) / 1_000_000 }
}

/// Where the current time comes from, and how code that runs for long waits. Production uses
/// `SystemClock`; tests a manual clock, on which a timer fires only when the test moves time.
///
/// ```swift
/// try await clock.sleep(for: configuration.pingInterval)   // then send a Ping
/// ```
/// One clock both stamps what arrives (`now()`) and runs the timers (`sleep(for:)`), so a test that
/// moves it sees the stamps and the timers agree.
public protocol WallClock: Sendable {
    func now() -> Timestamp
    /// Returns once `duration` has passed; throws `CancellationError` if the task is cancelled first.
    func sleep(for duration: Duration) async throws
}
