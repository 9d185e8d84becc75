/// What an identifier is linked to: a visitor, or the visitor of a call's lead.
public enum LinkTarget: Sendable, Hashable {
    case visitor(VisitorID)
    /// The visitor of this call's lead.
    case call(String)
}

/// The identity graph as the daemon reads and extends it (SPEC §Identity over a long sales cycle): who a visitor
/// is now, the merges that made them, and links an operator or a CRM adds. An identifier already linked to
/// another person merges the two; the first owner survives.
public protocol IdentityBook: Sendable {
    /// Merges, newest first.
    func merges(limit: Int) async throws(StoreUnavailable) -> [VisitorMerge]
    /// The merge that retired each of `merged`, for the merges a destination delivers.
    func merges(of merged: [VisitorID]) async throws(StoreUnavailable) -> [VisitorID: VisitorMerge]
    /// Links `identifier` to `target`'s person (merging two people when it already names another); nil when the
    /// target is unknown.
    func link(_ identifier: VisitorIdentifier, to target: LinkTarget, by source: String, at now: Timestamp) async throws(StoreUnavailable) -> VisitorProfile?
    /// The person behind `visitor`; nil for a visitor never seen.
    func profile(of visitor: VisitorID) async throws(StoreUnavailable) -> VisitorProfile?
}
