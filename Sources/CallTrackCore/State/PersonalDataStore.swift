/// Personal data as the privacy rules handle it (SPEC §Privacy): redacted kind by kind as it ages, and one
/// person forgotten on request. Both travel to the destinations through the delivery log like any lead change.
public protocol PersonalDataStore: Sendable {
    /// Erases the person `target` names everywhere the store keeps them, keeping anonymous counts, and records the
    /// erasure (without what was erased); refused while a call from one of their phones has not ended.
    func erase(_ target: ErasureTarget, by: String, at now: Timestamp) async throws(StoreUnavailable) -> ErasureOutcome
    /// Every visitor id erasing `target` would erase (all the person's devices and cookies); empty when none is known.
    func visitors(of target: ErasureTarget) async throws(StoreUnavailable) -> Set<VisitorID>
    /// Erasures, newest first.
    func erasures(limit: Int) async throws(StoreUnavailable) -> [ErasureRecord]
    /// The erasures with these ids, for the destinations that delivered them.
    func erasures(ids: [Int64]) async throws(StoreUnavailable) -> [Int64: ErasureRecord]
    /// Redacts every kind of data older than `policy` allows, in batches of `batchSize` rows.
    func redact(_ policy: RetentionPolicy, at now: Timestamp, batchSize: Int) async throws(StoreUnavailable) -> RedactionCounts
}
