import CallTrackCore

/// The `outcome_report` table: outcomes a connector wrote into PostgreSQL for calltrackd to take. Rows are taken
/// oldest first; each is settled (`taken_at`, `result`) only after calltrackd stored it, so a crash in between
/// takes it again, which changes nothing (an outcome is kept once per lead and stage).
public struct PostgresOutcomeReports: Sendable {
    private let connection: PostgresConnection
    private let schema: PostgresSchema

    public init(connection: PostgresConnection, schema: PostgresSchema) {
        self.connection = connection
        self.schema = schema
    }

    /// One row as the connector wrote it (the table's checks have passed).
    public struct Report: Sendable, Hashable {
        public var id: Int64
        public var callID: String
        public var stage: String
        /// Decimal text as PostgreSQL prints `numeric` (`125000.00`).
        public var amount: String?
        public var currency: String?
        public var crmDealID: String?
        public var occurredAt: Timestamp
    }

    /// Rows not taken yet, oldest first.
    public func waiting(limit: Int) async throws(PostgresError) -> [Report] {
        let rows = try await connection.query("""
            SELECT id, call_id, stage, amount::text, currency, crm_deal_id,
                   (extract(epoch FROM occurred_at) * 1000000)::bigint
            FROM \(schema.qualified("outcome_report")) WHERE taken_at IS NULL ORDER BY id LIMIT $1
            """, [String(limit)], prepared: true)
        return rows.rows.compactMap { row -> Report? in
            guard row.count == 7, let id = row[0].flatMap({ Int64($0) }), let callID = row[1], let stage = row[2],
                  let micros = row[6].flatMap({ Int64($0) }) else { return nil }
            return Report(id: id, callID: callID, stage: stage, amount: row[3], currency: row[4], crmDealID: row[5],
                          occurredAt: Timestamp(microsecondsSinceEpoch: micros))
        }
    }

    /// Marks a row taken, with what came of it (`recorded`, `unchanged`, `no_lead`, or why it was refused).
    public func settle(_ id: Int64, result: String) async throws(PostgresError) {
        try await connection.query("""
            UPDATE \(schema.qualified("outcome_report")) SET taken_at = now(), result = $2 WHERE id = $1 AND taken_at IS NULL
            """, [String(id), String(result.prefix(500))], prepared: true)
    }

    /// Migrates the schema (the lead delivery may not have yet: both run at start) and writes the settings the
    /// views read (`setting`: e.g. `callback_window_seconds`).
    public func prepare(settings: [String: String]) async throws(PostgresError) {
        let schema = self.schema
        try await connection.withSession { session throws(PostgresError) in _ = try schema.migrate(session) }
        try await publish(settings: settings)
    }

    /// Writes the settings the views read.
    public func publish(settings: [String: String]) async throws(PostgresError) {
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) {
            try await connection.query("""
                INSERT INTO \(schema.qualified("setting")) (key, value) VALUES ($1, $2)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() WHERE setting.value <> EXCLUDED.value
                """, [key, value], prepared: true)
        }
    }
}
