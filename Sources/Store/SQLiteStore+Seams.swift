import CallTrackCore

// The SQLite implementation of the state seams: the daemon hands these to its services as the protocols, so a
// second implementation (PostgreSQL shared by several daemons) replaces them where `Daemon.open` builds them.
extension LeadLedger: LeadStore, IdentityBook, PersonalDataStore {
    public var deliveryLog: any DeliveryLog { outbox }
}

extension Outbox: DeliveryLog {}

extension PoolStatisticsStore: PoolHistory {}

extension DealerStatisticsStore: DealerHistory {}

extension AdminDealers: DealerDefinitions {}
