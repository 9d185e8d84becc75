import Synchronization

/// Writes lead changes into `calltrack.lead`: one upsert per batch, keyed by call id, never going
/// back to an older revision; every lead that changed gets its CRM sync state set to pending and one
/// `NOTIFY` with its call id, all in the same statement (one round trip, one commit). The rows travel
/// as one binary array per column, taken apart by `unnest` on the server: one prepared statement for
/// every batch size, and a few long parameters instead of 28 per row. A first or last touch that is
/// an element of the journey travels as its index there, so the server parses its JSON once.
///
/// ```sql
/// WITH changed AS (INSERT INTO lead … SELECT u.call_id, …, CASE … u.journey -> u.first_touch_at END, …
///                  FROM unnest($1::text[], …) AS u(…) ON CONFLICT (call_id)
///                  DO UPDATE SET … WHERE lead.revision < EXCLUDED.revision RETURNING call_id),
///      sync AS (INSERT INTO crm_sync (lead_id) SELECT call_id FROM changed ON CONFLICT … pending)
/// SELECT count(*) FROM (SELECT pg_notify($31, call_id) FROM changed) n
/// ```
public struct LeadWriter: Sendable {
    public let schema: PostgresSchema
    /// Most rows in one statement: bounds a batch's memory and the wait of the first lead in it.
    public static let maxRowsPerStatement = 1000
    private let deliveryStatement: String
    private let plainStatements = StatementCache()

    public init(schema: PostgresSchema) {
        self.schema = schema
        deliveryStatement = Self.unnestStatement(schema)
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
        var parameters = rows.columns
        parameters.append(schema.channel)
        let result = try session.query(deliveryStatement, parameters, prepared: true)
        return result.scalar().flatMap { Int($0) } ?? 0
    }

    /// A multi-row `VALUES` upsert without CRM sync state and `NOTIFY`: what a plain writer would do
    /// (the benchmark's baseline, as the issue defines it).
    public func plainUpsert(_ changes: [LeadChange], in session: PostgresSession) throws(PostgresError) {
        let rows = LeadRows(changes)
        guard rows.count > 0 else { return }
        var parameters = PostgresParameters()
        parameters.reserve(values: rows.count * Self.columns.count, bytes: rows.count * 1200)
        for row in rows.rows { row.appendColumns(to: &parameters) }
        let sql = plainStatements.sql(rows: rows.count) { valuesStatement(rows: rows.count) }
        try session.query(sql, parameters, prepared: true)
    }

    /// The lead table's columns as the writer fills them, with their types (for the arrays `unnest` takes apart).
    static let typedColumns: [(name: String, type: PostgresElementType)] = [
        ("call_id", .text), ("revision", .bigint), ("site_id", .text), ("tracking_number", .text),
        ("caller", .text), ("caller_name", .text),
        ("started_at", .timestamptz), ("answered_at", .timestamptz), ("ended_at", .timestamptz),
        ("disposition", .text), ("answered_by", .text), ("talk_seconds", .integer), ("ring_seconds", .integer),
        ("match_kind", .text), ("match_confidence", .doublePrecision), ("candidate_count", .integer),
        ("match_explanation", .jsonb), ("visitor_id", .text), ("session_id", .text), ("user_agent", .text),
        ("first_touch", .jsonb), ("last_touch", .jsonb), ("journey", .jsonb),
        ("dealer_id", .text), ("is_lead", .boolean), ("junk_reason", .text), ("repeat_of", .text), ("updated_at", .timestamptz),
    ]
    static let columns = typedColumns.map(\.name)

    /// The upsert of `rows` (a `VALUES` list or a `SELECT`) into the lead table.
    static func upsert(into schema: PostgresSchema, rows: String) -> String {
        let updates = columns.dropFirst().map { "\($0) = EXCLUDED.\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO \(schema.qualified("lead")) AS l (\(columns.joined(separator: ", "))) \(rows)
            ON CONFLICT (call_id) DO UPDATE SET \(updates), written_at = now()
            WHERE l.revision < EXCLUDED.revision
            """
    }

    /// What the delivery sends beyond the lead's columns: where in the journey the first and the last
    /// touch stand (NULL when a touch is sent whole), so the server parses each touch's JSON once.
    static let touchIndexColumns: [(name: String, type: PostgresElementType)] = [("first_touch_at", .integer), ("last_touch_at", .integer)]
    /// The arrays the delivery statement takes, in parameter order.
    static let wireColumns = typedColumns + touchIndexColumns
    static let wireTypes = wireColumns.map(\.type)

    /// The delivery statement: the batch as arrays, CRM sync state, one `NOTIFY` per changed lead.
    static func unnestStatement(_ schema: PostgresSchema) -> String {
        let wire = wireColumns
        let arrays = wire.enumerated().map { "$\($0.offset + 1)::\($0.element.type.sqlName)[]" }.joined(separator: ", ")
        let values = columns.map { name -> String in
            switch name {
            case "first_touch", "last_touch": "CASE WHEN u.\(name)_at IS NULL THEN u.\(name) ELSE u.journey -> u.\(name)_at END"
            default: "u.\(name)"
            }
        }.joined(separator: ", ")
        let rows = "SELECT \(values) FROM unnest(\(arrays)) AS u(\(wire.map(\.name).joined(separator: ", ")))"
        return """
            WITH changed AS (\(upsert(into: schema, rows: rows)) RETURNING l.call_id),
            sync AS (
                INSERT INTO \(schema.qualified("crm_sync")) AS s (lead_id) SELECT call_id FROM changed
                ON CONFLICT (lead_id) DO UPDATE SET state = 'pending', attempts = 0, last_error = NULL, updated_at = now()
                WHERE s.state <> 'pending'
            )
            SELECT count(*) FROM (SELECT pg_notify($\(wire.count + 1), call_id) FROM changed) notified
            """
    }

    /// The plain baseline's SQL for `rows` rows of `VALUES`.
    func valuesStatement(rows: Int) -> String {
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
        return Self.upsert(into: schema, rows: "VALUES \(values)")
    }
}

/// Lead changes ready for one upsert: sanitized, one per call id (the highest revision, at the
/// place the call was first seen), as one array parameter per column.
public struct LeadRows: Sendable {
    public let count: Int
    let rows: [LeadChange]
    let columns: PostgresParameters

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
        let sanitized = rows.map { $0.sanitized() }
        var columns = PostgresArrayColumns(types: LeadWriter.wireTypes, reservingBytes: sanitized.count * 1300)
        for row in sanitized {
            // A touch that is, byte for byte, an element of the journey travels as its index.
            var wire = row
            let (first, last) = Self.journeyIndices(of: row.firstTouch, row.lastTouch, in: row.journey)
            if first != nil { wire.firstTouch = nil }
            if last != nil { wire.lastTouch = nil }
            wire.appendColumns(to: &columns)
            columns.append(first)
            columns.append(last)
        }
        self.count = sanitized.count
        self.rows = sanitized
        self.columns = columns.parameters
    }
}

extension LeadRows {
    /// Where `first` and `last` stand in the journey's JSON array, when each is byte for byte one of
    /// its elements (the first such for `first`, the last for `last`); nil otherwise.
    static func journeyIndices(of first: String?, _ last: String?, in journey: String) -> (first: Int?, last: Int?) {
        guard first != nil || last != nil else { return (nil, nil) }
        var journey = journey
        return journey.withUTF8 { bytes in
            var reader = JSONByteReader(bytes)
            guard let ranges = try? reader.arrayElementRanges() else { return (nil, nil) }
            func matches(_ touch: String, _ range: Range<Int>) -> Bool {
                var touch = touch
                return touch.withUTF8 { JSONByteReader.same($0, bytes, range) }
            }
            return (first.flatMap { touch in ranges.firstIndex { matches(touch, $0) } },
                    last.flatMap { touch in ranges.lastIndex { matches(touch, $0) } })
        }
    }
}

extension LeadChange {
    /// Appends this change's values in `LeadWriter.columns` order.
    func appendColumns(to p: inout some PostgresValues) {
        p.append(callID); p.append(revision); p.append(siteID); p.append(trackingNumber)
        p.append(caller); p.append(callerName)
        p.append(startedAt); p.append(answeredAt); p.append(endedAt)
        p.append(disposition); p.append(answeredBy); p.append(talkSeconds); p.append(ringSeconds)
        p.append(matchKind); p.append(matchConfidence); p.append(candidateCount); p.append(matchExplanation)
        p.append(visitorID); p.append(sessionID); p.append(userAgent)
        p.append(firstTouch); p.append(lastTouch); p.append(journey)
        p.append(dealerID); p.append(isLead); p.append(junkReason); p.append(repeatOf); p.append(changedAt)
    }
}

/// The plain baseline's SQL text per row count: a 1,000-row statement is 200 KB of text, built once.
private final class StatementCache: Sendable {
    private let cache = Mutex<[Int: String]>([:])

    func sql(rows: Int, build: () -> String) -> String {
        if let sql = cache.withLock({ $0[rows] }) { return sql }
        let sql = build()
        cache.withLock { $0[rows] = sql }
        return sql
    }
}
