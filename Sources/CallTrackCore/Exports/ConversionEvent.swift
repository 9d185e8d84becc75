/// What an analytics destination (a GA4 property) reports about a lead, each at most once per destination.
public enum ConversionKind: String, Sendable, Hashable, CaseIterable, Codable {
    /// A qualified call: a lead (neither junk nor a repeat), ended, matched by one of the destination's kinds.
    case call
    /// The CRM reported the deal won.
    case won
}

/// What became of a lead's conversion at one destination, as its log keeps it: sent, or skipped for good with why
/// (no analytics client id, older than the destination accepts). Either way it is not tried again.
public struct ConversionRecord: Sendable, Hashable {
    public enum Outcome: String, Sendable, Hashable, Codable {
        case sent, skipped
    }

    public var callID: String
    public var kind: ConversionKind
    public var outcome: Outcome
    /// Why it was skipped (`no_client_id`, `too_old`); nil when sent.
    public var reason: String?

    public init(callID: String, kind: ConversionKind, outcome: Outcome, reason: String? = nil) {
        self.callID = callID
        self.kind = kind
        self.outcome = outcome
        self.reason = reason
    }
}

/// The analytics ids a visit carried, as the snippet captured them.
public struct VisitAnalyticsIDs: Sendable, Hashable {
    /// Google Analytics' client id (from `_ga`).
    public var gaClientID: String?
    /// GA4's session id (from `_ga_<container-id>`).
    public var gaSessionID: String?

    public init(gaClientID: String? = nil, gaSessionID: String? = nil) {
        self.gaClientID = gaClientID
        self.gaSessionID = gaSessionID
    }
}
