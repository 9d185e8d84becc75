import CallTrackCore

/// Writes ad costs into PostgreSQL's `ad_cost` table (upsert by day and campaign), all of one call in one
/// transaction: the ROI views see a whole import or none of it.
public struct PostgresAdCosts: Sendable {
    private let connection: PostgresConnection
    private let schema: PostgresSchema

    public init(connection: PostgresConnection, schema: PostgresSchema) {
        self.connection = connection
        self.schema = schema
    }

    public func upsert(_ costs: [(cost: AdCost, importedAt: Timestamp)]) async throws(PostgresError) {
        guard !costs.isEmpty else { return }
        let sql = """
            INSERT INTO \(schema.qualified("ad_cost")) (day, source, medium, campaign, currency, cost, imported_at)
            VALUES ($1::date, $2, $3, $4, $5, $6::numeric, to_timestamp($7::double precision))
            ON CONFLICT (day, source, medium, campaign) DO UPDATE SET
                currency = EXCLUDED.currency, cost = EXCLUDED.cost, imported_at = EXCLUDED.imported_at
            """
        let rows: [[String?]] = costs.map { row in
            let key = row.cost.key
            return ["\(row.cost.day)", key.source, key.medium, key.campaign, row.cost.cost.currency, row.cost.cost.decimal,
                    String(row.importedAt.secondsSinceEpoch)]
        }
        try await connection.withSession { session throws(PostgresError) in
            try session.execute("BEGIN")
            do throws(PostgresError) {
                for row in rows { try session.query(sql, PostgresParameters(row), prepared: true) }
                try session.execute("COMMIT")
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
        }
    }
}
