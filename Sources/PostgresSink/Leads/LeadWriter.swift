import Synchronization

/// Writes lead changes into `calltrack.lead`: one multi-row upsert per batch, keyed by call id,
/// never going back to an older revision; every lead that changed gets its CRM sync state set to
/// pending and one `NOTIFY` with its call id, all in the same statement (one round trip, one commit).
///
/// ```sql
/// WITH changed AS (INSERT INTO lead … VALUES (…), (…) ON CONFLICT (call_id) DO UPDATE SET …
///                  WHERE lead.revision < EXCLUDED.revision RETURNING call_id),
///      sync AS (INSERT INTO crm_sync (lead_id) SELECT call_id FROM changed ON CONFLICT … pending)
/// SELECT count(*) FROM (SELECT pg_notify($channel, call_id) FROM changed) n
/// ```
public struct LeadWriter: Sendable {
    public let schema: PostgresSchema
    /// Most rows in one statement (28 parameters a row: 28,001 stay under PostgreSQL's 65,535).
    public static let maxRowsPerStatement = 1000
    private let statements = StatementCache()

    public init(schema: PostgresSchema) {
        self.schema = schema
    }

    /// Upserts `changes` (at most `maxRowsPerStatement`; later entries for a call id win) and
    /// returns how many leads changed. Replays of a revision already stored change nothing.
    @discardableResult
    public func upsert(_ changes: [LeadChange], in session: PostgresSession) throws(PostgresError) -> Int {
        try upsert(LeadRows(changes), in: session)
    }

    /// Upserts rows prepared beforehand (off the connection's thread, while it writes the previous batch).
    @discardableResult
    public func upsert(_ rows: LeadRows, in session: PostgresSession) throws(PostgresError) -> Int {
        guard rows.count > 0 else { return 0 }
        var parameters = rows.parameters
        parameters.append(schema.channel)
        let sql = statements.sql(rows: rows.count, notify: true) { statement(rows: rows.count, notify: true) }
        // Full batches (a backlog) and single leads (live calls) repeat: parse those once per connection.
        let result = try session.query(sql, parameters, prepared: rows.count >= 100 && rows.count % 100 == 0 || rows.count == 1)
        return result.scalar().flatMap { Int($0) } ?? 0
    }

    /// The same upsert without CRM sync state and `NOTIFY`: what a plain writer would do (benchmark baseline).
    public func plainUpsert(_ changes: [LeadChange], in session: PostgresSession) throws(PostgresError) {
        let rows = LeadRows(changes)
        guard rows.count > 0 else { return }
        let sql = statements.sql(rows: rows.count, notify: false) { statement(rows: rows.count, notify: false) }
        try session.query(sql, rows.parameters, prepared: true)
    }

    static let columns = [
        "call_id", "revision", "site_id", "tracking_number", "caller", "caller_name",
        "started_at", "answered_at", "ended_at", "disposition", "answered_by", "talk_seconds", "ring_seconds",
        "match_kind", "match_confidence", "candidate_count", "match_explanation",
        "visitor_id", "session_id", "user_agent", "first_touch", "last_touch", "journey",
        "dealer_id", "is_lead", "junk_reason", "repeat_of", "updated_at",
    ]

    /// SQL for `rows` rows; built once per size and schema.
    func statement(rows: Int, notify: Bool) -> String {
        let width = Self.columns.count
        var values = ""
        values.reserveCapacity(rows * width * 6)
        for row in 0..<rows {
            values += row == 0 ? "(" : ",("
            for column in 0..<width {
                if column > 0 { values += "," }
                values += "$\(row * width + column + 1)"
            }
            values += ")"
        }
        let lead = schema.qualified("lead")
        let updates = Self.columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        let upsert = """
            INSERT INTO \(lead) AS l (\(Self.columns.joined(separator: ", "))) VALUES \(values)
            ON CONFLICT (call_id) DO UPDATE SET \(updates), written_at = now()
            WHERE l.revision < EXCLUDED.revision
            """
        guard notify else { return upsert }
        return """
            WITH changed AS (\(upsert) RETURNING l.call_id),
            sync AS (
                INSERT INTO \(schema.qualified("crm_sync")) AS s (lead_id) SELECT call_id FROM changed
                ON CONFLICT (lead_id) DO UPDATE SET state = 'pending', attempts = 0, last_error = NULL, updated_at = now()
                WHERE s.state <> 'pending'
            )
            SELECT count(*) FROM (SELECT pg_notify($\(rows * width + 1), call_id) FROM changed) notified
            """
    }
}

/// Lead changes ready for one upsert: sanitized, one per call id (the highest revision, at the
/// place the call was first seen), as statement parameters.
public struct LeadRows: Sendable {
    public let count: Int
    let parameters: PostgresParameters

    public init(_ changes: [LeadChange]) {
        var position: [String: Int] = [:]
        var rows: [LeadChange] = []
        rows.reserveCapacity(changes.count)
        for change in changes {
            if let index = position[change.callID] {
                if change.revision >= rows[index].revision { rows[index] = change }
            } else {
                position[change.callID] = rows.count
                rows.append(change)
            }
        }
        var parameters = PostgresParameters()
        parameters.reserve(values: rows.count * LeadWriter.columns.count + 1, bytes: rows.count * 1200)
        for row in rows { row.sanitized().appendColumns(to: &parameters) }
        self.count = rows.count
        self.parameters = parameters
    }
}

extension LeadChange {
    /// Appends this change's values in `LeadWriter.columns` order.
    func appendColumns(to p: inout PostgresParameters) {
        p.append(callID); p.append(revision); p.append(siteID); p.append(trackingNumber)
        p.append(caller); p.append(callerName)
        p.append(startedAt.postgresText); p.append(answeredAt?.postgresText); p.append(endedAt?.postgresText)
        p.append(disposition); p.append(answeredBy); p.append(talkSeconds); p.append(ringSeconds)
        p.append(matchKind); p.append(matchConfidence); p.append(candidateCount); p.append(matchExplanation)
        p.append(visitorID); p.append(sessionID); p.append(userAgent)
        p.append(firstTouch); p.append(lastTouch); p.append(journey)
        p.append(dealerID); p.append(isLead); p.append(junkReason); p.append(repeatOf); p.append(changedAt.postgresText)
    }
}

/// SQL text per (rows, notify): a 1,000-row statement is 200 KB of text, built once.
private final class StatementCache: Sendable {
    private let cache = Mutex<[Int: String]>([:])

    func sql(rows: Int, notify: Bool, build: () -> String) -> String {
        let key = notify ? rows : -rows
        if let sql = cache.withLock({ $0[key] }) { return sql }
        let sql = build()
        cache.withLock { $0[key] = sql }
        return sql
    }
}
