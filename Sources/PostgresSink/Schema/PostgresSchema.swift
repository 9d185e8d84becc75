/// The daemon's own PostgreSQL schema (`calltrack` by default), created and migrated by the daemon
/// at start. Migrations are history: a shipped one is never edited, only followed by new ones.
/// Each runs in its own transaction under an advisory lock, so several daemons starting at once
/// migrate once.
public struct PostgresSchema: Sendable {
    /// Schema name, a plain lower-case SQL identifier.
    public let name: String
    /// `NOTIFY` channel that carries the call id of every changed lead.
    public let channel: String

    public struct InvalidName: Error, CustomStringConvertible {
        public var description: String
    }

    public init(name: String = "calltrack", channel: String = "calltrack_lead") throws(InvalidName) {
        for (what, value) in [("schema", name), ("channel", channel)] where !Self.isPlainIdentifier(value) {
            throw InvalidName(description: "postgres \(what) name '\(value)' must be 1–63 characters of a-z, 0-9 and _, not starting with a digit")
        }
        self.name = name
        self.channel = channel
    }

    /// `"calltrack".table`
    public func qualified(_ table: String) -> String { "\"\(name)\".\(table)" }

    /// Applies the migrations not yet applied; returns the versions applied now (empty: up to date).
    @discardableResult
    public func migrate(_ session: PostgresSession) throws(PostgresError) -> [Int] {
        var applied: [Int] = []
        for migration in migrations {
            try session.execute("BEGIN")
            do throws(PostgresError) {
                // Same key for every daemon migrating this schema; released at COMMIT.
                try session.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["calltrack.migrate." + name])
                try session.execute("""
                    CREATE SCHEMA IF NOT EXISTS "\(name)";
                    CREATE TABLE IF NOT EXISTS \(qualified("schema_migration")) (
                        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                    """)
                let done = try session.query("SELECT 1 FROM \(qualified("schema_migration")) WHERE version = $1",
                                             [String(migration.version)])
                if done.rows.isEmpty {
                    try session.execute(migration.sql)
                    try session.query("INSERT INTO \(qualified("schema_migration")) (version, name) VALUES ($1, $2)",
                                      [String(migration.version), migration.name])
                    applied.append(migration.version)
                }
                try session.execute("COMMIT")
            } catch {
                try? session.execute("ROLLBACK")
                throw error
            }
        }
        return applied
    }

    /// The newest version applied, or nil for an empty database.
    public func version(_ session: PostgresSession) throws(PostgresError) -> Int? {
        let exists = try session.query("SELECT to_regclass($1) IS NOT NULL", ["\"\(name)\".schema_migration"])
        guard exists.scalar() == "t" else { return nil }
        return try session.query("SELECT max(version) FROM \(qualified("schema_migration"))").scalar().flatMap { Int($0) }
    }

    struct Migration {
        var version: Int
        var name: String
        var sql: String
    }

    var migrations: [Migration] {
        [
            Migration(version: 1, name: "leads, crm sync, attribution views", sql: leadsV1),
            Migration(version: 2, name: "crm sync without a foreign key", sql: crmSyncWithoutForeignKeyV2),
            Migration(version: 3, name: "visitor merges and the lead_person view", sql: visitorMergesV3),
            Migration(version: 4, name: "the unknown disposition", sql: unknownDispositionV4),
            Migration(version: 5, name: "dealer routing: the lead's dealer rule and reason, dealer_day", sql: dealerRoutingV5),
            Migration(version: 6, name: "CRM outcomes, outcome_report, callbacks in dealer_day", sql: outcomesV6),
            Migration(version: 7, name: "ad costs, the attribution view, roi_campaign_day and roi_dealer_day", sql: moneyV7),
        ]
    }

    static func isPlainIdentifier(_ value: String) -> Bool {
        guard let first = value.utf8.first, value.utf8.count <= 63, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            return false
        }
        return value.utf8.allSatisfy { ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_") }
    }
}
