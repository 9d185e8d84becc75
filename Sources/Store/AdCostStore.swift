import CallTrackCore
import GRDB

/// The ad costs in the state database (`ad_cost`), keyed by day and campaign (lower case, as touches match them).
public final class AdCostStore: AdSpend {
    let database: DatabasePool

    public init(store: SQLiteStore) {
        database = store.database
    }

    @discardableResult
    public func put(_ costs: [AdCost], at now: Timestamp) async throws(StoreUnavailable) -> Int {
        guard !costs.isEmpty else { return 0 }
        do {
            return try await database.write { db in
                var changed = 0
                let statement = try db.cachedStatement(sql: """
                    INSERT INTO ad_cost (day, source, medium, campaign, currency, cost, imported_at, synced_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
                    ON CONFLICT (day, source, medium, campaign) DO UPDATE SET
                        currency = excluded.currency, cost = excluded.cost, imported_at = excluded.imported_at, synced_at = NULL
                    WHERE currency <> excluded.currency OR cost <> excluded.cost
                    """)
                for cost in costs {
                    let key = cost.key
                    try statement.execute(arguments: [cost.day.daysSinceEpoch, key.source, key.medium, key.campaign, cost.cost.currency,
                                                      cost.cost.hundredths, now.microsecondsSinceEpoch])
                    changed += db.changesCount
                }
                return changed
            }
        } catch {
            throw StoreUnavailable("cannot store the costs: \(SQLiteStore.explain(error))")
        }
    }

    public func costs(from: LocalDate, through: LocalDate) async throws(StoreUnavailable) -> [AdCost] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM ad_cost WHERE day BETWEEN ? AND ? ORDER BY day, source, medium, campaign"),
                             arguments: [from.daysSinceEpoch, through.daysSinceEpoch]).map(Self.cost)
        }
    }

    public func waiting(limit: Int) async throws(StoreUnavailable) -> [(cost: AdCost, importedAt: Timestamp)] {
        let rows = try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM ad_cost WHERE synced_at IS NULL ORDER BY imported_at LIMIT ?"),
                             arguments: [limit]).map { (Self.cost($0), Timestamp(microsecondsSinceEpoch: $0["imported_at"])) }
        }
        return rows.map { (cost: $0.0, importedAt: $0.1) }
    }

    public func synced(_ costs: [(cost: AdCost, importedAt: Timestamp)], at now: Timestamp) async throws(StoreUnavailable) {
        let rows = costs.map { ($0.cost, $0.importedAt) }
        do {
            try await database.write { db in
                for (cost, importedAt) in rows {
                    let key = cost.key
                    try db.execute(sql: """
                        UPDATE ad_cost SET synced_at = ? WHERE day = ? AND source = ? AND medium = ? AND campaign = ? AND imported_at = ?
                        """, arguments: [now.microsecondsSinceEpoch, cost.day.daysSinceEpoch, key.source, key.medium, key.campaign,
                                         importedAt.microsecondsSinceEpoch])
                }
            }
        } catch {
            throw StoreUnavailable("cannot mark costs copied: \(SQLiteStore.explain(error))")
        }
    }

    static func cost(_ row: Row) -> AdCost {
        let day = Timestamp(microsecondsSinceEpoch: (row["day"] as Int64) * 86_400_000_000).utc
        return AdCost(day: LocalDate(year: Int(day.year), month: Int(day.month), day: Int(day.day)), source: row["source"],
                      medium: row["medium"], campaign: row["campaign"],
                      cost: Money(hundredths: row["cost"], currency: row["currency"]))
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(StoreUnavailable) -> T {
        do { return try await database.read(body) } catch {
            throw StoreUnavailable("cannot read the costs: \(SQLiteStore.explain(error))")
        }
    }
}
