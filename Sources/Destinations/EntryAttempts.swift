/// The attempts at one entry sent to an HTTP destination (a webhook endpoint, a GA4 property), and what follows a
/// failure: wait and retry, or give up and set the entry aside as a dead letter for this destination (webhooks:
/// the operator replays it with `calltrackd webhooks replay`).
///
/// ```swift
/// var attempts = EntryAttempts(deadLetterAfter: 3, schedule: RetrySchedule(initial: .seconds(1)))
/// attempts.failed(jitter: 1)  // .retry(after: 1s)
/// attempts.failed(jitter: 1)  // .retry(after: 2s)
/// attempts.failed(jitter: 1)  // .deadLetter(after: 3)
/// ```
/// Pure: no clock, no I/O. The sender sleeps on its injected clock for the returned delay.
public struct EntryAttempts: Sendable, Hashable {
    public enum Next: Sendable, Hashable {
        /// Send the entry again once `after` has passed.
        case retry(after: Duration)
        /// `failures` consecutive failures: stop, set the entry aside for this endpoint, go on with the next.
        case deadLetter(failures: Int)
    }

    public let deadLetterAfter: Int
    public let schedule: RetrySchedule
    /// Consecutive failures of this entry so far.
    public private(set) var failures = 0

    public init(deadLetterAfter: Int, schedule: RetrySchedule) {
        self.deadLetterAfter = max(1, deadLetterAfter)
        self.schedule = schedule
    }

    /// One more attempt failed (a refused connection, a timeout, an answer outside 2xx).
    public mutating func failed(jitter: Double) -> Next {
        failures += 1
        if failures >= deadLetterAfter { return .deadLetter(failures: failures) }
        return .retry(after: schedule.delay(afterFailure: failures, jitter: jitter))
    }
}
