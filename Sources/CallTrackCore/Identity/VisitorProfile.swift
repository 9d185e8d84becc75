/// A recorded merge: who merged into whom, why, and when.
public struct VisitorMerge: Sendable, Hashable {
    public var merged: VisitorID
    public var survivor: VisitorID
    public var reason: String
    /// The identifier that linked them, `kind:value`.
    public var via: String
    public var callID: String?
    public var at: Timestamp

    public init(merged: VisitorID, survivor: VisitorID, reason: String, via: String, callID: String?, at: Timestamp) {
        self.merged = merged
        self.survivor = survivor
        self.reason = reason
        self.via = via
        self.callID = callID
        self.at = at
    }

    /// Outbox keys of merges start with this; lead changes are keyed by call id.
    public static let outboxKeyPrefix = "merge:"
}

/// An identifier with the visitor it was first linked to.
public struct LinkedIdentifier: Sendable, Hashable {
    public var identifier: VisitorIdentifier
    public var visitorID: VisitorID
    public var linkedAt: Timestamp
    public var lastSeenAt: Timestamp
    public var callID: String?

    public init(identifier: VisitorIdentifier, visitorID: VisitorID, linkedAt: Timestamp, lastSeenAt: Timestamp, callID: String?) {
        self.identifier = identifier
        self.visitorID = visitorID
        self.linkedAt = linkedAt
        self.lastSeenAt = lastSeenAt
        self.callID = callID
    }
}

/// One person as calltrackd knows them: every visitor id, identifier, merge and lead.
public struct VisitorProfile: Sendable {
    public var survivor: VisitorID
    public var visitorIDs: [VisitorID]
    public var identifiers: [LinkedIdentifier]
    public var merges: [VisitorMerge]
    /// Call ids of their leads, newest first.
    public var leads: [String]

    public init(survivor: VisitorID, visitorIDs: [VisitorID], identifiers: [LinkedIdentifier], merges: [VisitorMerge], leads: [String]) {
        self.survivor = survivor
        self.visitorIDs = visitorIDs
        self.identifiers = identifiers
        self.merges = merges
        self.leads = leads
    }
}
