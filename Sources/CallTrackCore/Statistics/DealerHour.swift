/// One dealer's calls that started in one hour (UTC), counted as each call's lead changes (`DealerTally`).
/// Counters only add, so two parts of an hour written separately add up.
///
/// ```
/// moscow-north 2026-12-08T10:00Z  offered 12  answered 9  missed 2  busy 1  answer seconds [4, 6, 9, …]
/// ```
public struct DealerHour: Hashable, Sendable {
    public var dealer: DealerID
    /// The whole hour the calls started in.
    public var start: Timestamp
    /// Calls sent to the dealer: chosen by routing, or taken over when its failover leg answered.
    public var offered = 0
    public var answered = 0
    /// Rang and nobody at the dealer answered (including a call a failover dealer answered instead).
    public var missed = 0
    /// The caller left a queue before anyone answered.
    public var abandoned = 0
    public var busy = 0
    public var talkSeconds = 0
    /// Calls that stayed leads, and calls judged junk, when they ended.
    public var leads = 0
    public var junk = 0
    /// How long each answered call rang before the answer, in seconds: time to answer.
    public var answerSeconds: [Int] = []

    public init(dealer: DealerID, start: Timestamp) {
        self.dealer = dealer
        self.start = start
    }

    /// Adds `other`'s counts (same dealer and hour).
    public mutating func add(_ other: DealerHour) {
        offered += other.offered
        answered += other.answered
        missed += other.missed
        abandoned += other.abandoned
        busy += other.busy
        talkSeconds += other.talkSeconds
        leads += other.leads
        junk += other.junk
        answerSeconds += other.answerSeconds
    }

    public var isEmpty: Bool {
        offered == 0 && answered == 0 && missed == 0 && abandoned == 0 && busy == 0 && leads == 0 && junk == 0 && talkSeconds == 0
    }

    /// The whole UTC hour `t` falls in.
    public static func hour(of t: Timestamp) -> Timestamp {
        let hour: Int64 = 3_600_000_000
        let micros = t.microsecondsSinceEpoch
        return Timestamp(microsecondsSinceEpoch: micros - ((micros % hour) + hour) % hour)
    }
}

/// A call a dealer did not answer (missed, busy or abandoned), from a caller it can call back. A callback is an
/// outbound call from one of the dealer's dial targets to that caller, seen on AMI after the miss.
public struct MissedCall: Hashable, Sendable {
    public var callID: String
    public var dealer: DealerID
    public var caller: PhoneNumber
    /// When the call ended unanswered.
    public var missedAt: Timestamp
    /// The dealer's first call to the caller after the miss, if any.
    public var calledBackAt: Timestamp?

    public init(callID: String, dealer: DealerID, caller: PhoneNumber, missedAt: Timestamp, calledBackAt: Timestamp? = nil) {
        self.callID = callID
        self.dealer = dealer
        self.caller = caller
        self.missedAt = missedAt
        self.calledBackAt = calledBackAt
    }

    /// Where the miss stands at `now` given `window` to call back in.
    public func status(window: Duration, at now: Timestamp) -> CallbackStatus {
        if let calledBackAt, calledBackAt - missedAt <= window { return .calledBack }
        return now - missedAt < window ? .waiting : .notCalledBack
    }

    public enum CallbackStatus: String, Hashable, Sendable {
        /// Called back within the window.
        case calledBack = "called_back"
        /// Not yet called back, and the window is still open.
        case waiting
        /// The window closed without a callback (a later one does not count).
        case notCalledBack = "not_called_back"
    }
}
