/// What one retention sweep redacted or forgot.
public struct RedactionCounts: Sendable, Hashable {
    /// Sessions that lost a value (one session losing two kinds counts twice).
    public var sessions = 0
    public var leases = 0
    public var calls = 0
    /// Leads rewritten as a new revision (and queued for every destination).
    public var leads = 0
    /// Merge records whose `via` lost its value (and were queued again).
    public var merges = 0
    /// Visitor identifiers deleted: last seen before `privacy.retention`.
    public var identifiers = 0

    public init() {}

    public var total: Int { sessions + leases + calls + leads + merges + identifiers }
}
