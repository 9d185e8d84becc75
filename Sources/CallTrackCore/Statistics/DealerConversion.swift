/// A dealer's leads of a period and what the CRM reported of them: what its conversion is judged by.
public struct DealerConversion: Hashable, Sendable {
    /// Leads (not junk, not repeats) whose call started in the period.
    public var leads: Int
    /// Of those, the ones the CRM reported any outcome of.
    public var reported: Int
    /// Of those, the ones it reported won.
    public var won: Int

    public init(leads: Int = 0, reported: Int = 0, won: Int = 0) {
        self.leads = leads
        self.reported = reported
        self.won = won
    }
}
