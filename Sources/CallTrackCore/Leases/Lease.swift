public typealias SessionID = String
public typealias VisitorID = String

/// Number × session × [start, end): one row of lease history, never overwritten.
public struct Lease: Hashable, Sendable, Codable {
    public var poolID: String
    public var number: PhoneNumber
    public var sessionID: SessionID
    public var visitorID: VisitorID
    public var startedAt: Timestamp
    public var lastActivityAt: Timestamp
    /// When the lease ends unless touched again: min(last activity + idle TTL, start + max age).
    public var expiresAt: Timestamp
    /// Set when a lease ended before it expired (number retired, pool removed).
    public var endedAt: Timestamp?
    /// True when the number was live for another session when this lease began (`share` policy).
    public var shared: Bool

    public init(
        poolID: String, number: PhoneNumber, sessionID: SessionID, visitorID: VisitorID,
        startedAt: Timestamp, lastActivityAt: Timestamp, expiresAt: Timestamp,
        endedAt: Timestamp? = nil, shared: Bool = false
    ) {
        self.poolID = poolID
        self.number = number
        self.sessionID = sessionID
        self.visitorID = visitorID
        self.startedAt = startedAt
        self.lastActivityAt = lastActivityAt
        self.expiresAt = expiresAt
        self.endedAt = endedAt
        self.shared = shared
    }

    /// The instant the lease stops (or will stop) holding its number.
    public var end: Timestamp { endedAt.map { min($0, expiresAt) } ?? expiresAt }

    public func isLive(at t: Timestamp) -> Bool { startedAt <= t && t < end }
}
