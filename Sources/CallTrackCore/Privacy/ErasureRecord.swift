/// That a person was forgotten: when, named by which visitor id, by whom, and how much was erased — never what.
public struct ErasureRecord: Sendable, Hashable {
    public var id: Int64
    public var at: Timestamp
    /// The visitor id the erasure was asked for (for a phone: the person it was bound to; nil when none was).
    public var visitorID: VisitorID?
    /// The admin token's name, or `command line`.
    public var by: String
    public var visitors: Int
    public var sessions: Int
    public var calls: Int
    public var leads: Int
    public var identifiers: Int
    public var merges: Int

    public init(id: Int64, at: Timestamp, visitorID: VisitorID?, by: String, visitors: Int, sessions: Int, calls: Int,
                leads: Int, identifiers: Int, merges: Int) {
        self.id = id
        self.at = at
        self.visitorID = visitorID
        self.by = by
        self.visitors = visitors
        self.sessions = sessions
        self.calls = calls
        self.leads = leads
        self.identifiers = identifiers
        self.merges = merges
    }

    /// Outbox keys of erasures start with this, then the record's id: destinations forget the person too.
    public static let outboxKeyPrefix = "erase:"
}

/// What asking to forget a person came to.
public enum ErasureOutcome: Sendable, Hashable {
    case erased(ErasureRecord)
    /// Nothing is known of them: nothing erased.
    case unknown
    /// A call from one of their phones, begun at `since`, has not ended: its next change would write the caller
    /// again, so nothing was erased; ask again once it has ended. (A call with no end for `ErasureOutcome.callLimit`
    /// is taken as lost, not in progress.)
    case callInProgress(since: Timestamp)

    /// How long a call without an end counts as in progress.
    public static let callLimit: Duration = .seconds(6 * 3600)
}
