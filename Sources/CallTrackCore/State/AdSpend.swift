/// The ad costs the daemon keeps (SPEC §Leads in PostgreSQL, money per source and dealer): imported from the ad
/// cabinets' exports, read by the ROI report, copied to PostgreSQL for its views.
public protocol AdSpend: Sendable {
    /// Stores `costs`, each replacing what was stored for its day and campaign; returns how many rows changed.
    @discardableResult
    func put(_ costs: [AdCost], at now: Timestamp) async throws(StoreUnavailable) -> Int
    /// The costs of the days [from, through].
    func costs(from: LocalDate, through: LocalDate) async throws(StoreUnavailable) -> [AdCost]
    /// Costs not copied to PostgreSQL since they were last imported, oldest import first, with that import's time.
    func waiting(limit: Int) async throws(StoreUnavailable) -> [(cost: AdCost, importedAt: Timestamp)]
    /// Marks costs copied; one imported again since (a newer `importedAt`) still waits.
    func synced(_ costs: [(cost: AdCost, importedAt: Timestamp)], at now: Timestamp) async throws(StoreUnavailable)
}
