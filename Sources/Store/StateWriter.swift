import CallTrackCore
import Foundation
import GRDB

/// Turns `StateWrite`s into SQL, with cached statements (the hot path of every allocation).
enum StateWriter {
    /// Applies the writes; returns the newest outbox row they added (a merge for PostgreSQL), if any.
    @discardableResult
    static func apply(_ writes: [StateWrite], sticky: StickyDealerIndex, in db: Database) throws -> Int64? {
        var outboxID: Int64?
        for write in writes {
            switch write {
            case .session(let session): try upsert(session, db)
            case .lease(let lease): try upsert(lease, db)
            case .site(let site, let fromAdmin): try upsert(site, fromAdmin: fromAdmin, db)
            case .call(let call): try upsert(call, db)
            case .link(let identifier, let visitor, let at):
                let merge = try VisitorIdentity.link(identifier, to: visitor, by: "a visit", at: at, sticky: sticky, db)
                outboxID = merge?.outboxID ?? outboxID
            case .siteRetired(let site):
                try upsert(site, fromAdmin: true, db)
                try db.execute(sql: "UPDATE site SET retired_at = ? WHERE id = ?", arguments: [now(), site.id])
            }
        }
        return outboxID
    }

    static func upsert(_ s: SessionRecord, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO session (id, visitor_id, site_id, started_at, last_activity_at,
                utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, fbclid, msclkid,
                referrer, landing_url, channel, user_agent, client_network, ga_client_id, ym_uid, ga_session_id, number, kind, reason)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET last_activity_at = MAX(last_activity_at, excluded.last_activity_at),
                number = excluded.number, kind = excluded.kind, reason = excluded.reason,
                ga_session_id = COALESCE(excluded.ga_session_id, ga_session_id)
            """)
        let src = s.source
        var row = StatementBinder(statement)
        for text in [s.id, s.visitorID, s.siteID] { row.bind(text) }
        row.bind(s.startedAt.microsecondsSinceEpoch)
        row.bind(s.lastActivityAt.microsecondsSinceEpoch)
        for text in [src.utmSource, src.utmMedium, src.utmCampaign, src.utmContent, src.utmTerm,
                     src.clickIDs.gclid, src.clickIDs.yclid, src.clickIDs.fbclid, src.clickIDs.msclkid,
                     src.referrer, src.landingURL, src.channel.rawValue, s.userAgent, s.clientNetwork, s.gaClientID, s.ymUID,
                     s.gaSessionID, s.number.e164, s.kind.rawValue, s.reason?.rawValue] { row.bind(text) }
        try row.execute()
    }

    static func upsert(_ l: Lease, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO lease (pool_id, number, session_id, visitor_id, started_at, last_activity_at, expires_at, ended_at, shared)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (session_id, number, started_at) DO UPDATE SET
                last_activity_at = MAX(last_activity_at, excluded.last_activity_at),
                expires_at = MAX(expires_at, excluded.expires_at),
                ended_at = COALESCE(excluded.ended_at, ended_at)
            """)
        var row = StatementBinder(statement)
        for text in [l.poolID, l.number.e164, l.sessionID, l.visitorID] { row.bind(text) }
        for time in [l.startedAt, l.lastActivityAt, l.expiresAt] { row.bind(time.microsecondsSinceEpoch) }
        row.bind(l.endedAt?.microsecondsSinceEpoch)
        row.bind(l.shared)
        try row.execute()
    }

    static func upsert(_ c: CallRecord, _ db: Database) throws {
        let statement = try db.cachedStatement(sql: """
            INSERT INTO call (id, revision, tracking_number, dialled, caller, caller_raw, caller_withheld, caller_name,
                started_at, answered_at, ended_at, answered_by, queue, disposition, hangup_cause, ring_seconds, talk_seconds,
                recording, resumed, ended_while_disconnected)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, tracking_number = excluded.tracking_number,
                dialled = excluded.dialled, caller = excluded.caller, caller_raw = excluded.caller_raw,
                caller_withheld = excluded.caller_withheld, caller_name = excluded.caller_name,
                started_at = excluded.started_at, answered_at = excluded.answered_at, ended_at = excluded.ended_at,
                answered_by = excluded.answered_by, queue = excluded.queue, disposition = excluded.disposition,
                hangup_cause = excluded.hangup_cause, ring_seconds = excluded.ring_seconds,
                talk_seconds = excluded.talk_seconds, recording = excluded.recording, resumed = excluded.resumed,
                ended_while_disconnected = excluded.ended_while_disconnected
            WHERE excluded.revision >= call.revision
            """)
        try statement.execute(arguments: [
            c.id, c.revision, c.trackingNumber?.e164, c.dialled, c.caller?.e164, c.callerRaw, c.callerWithheld, c.callerName,
            c.startedAt.microsecondsSinceEpoch, c.answeredAt?.microsecondsSinceEpoch, c.endedAt?.microsecondsSinceEpoch,
            c.answeredBy, c.queue, c.disposition, c.hangupCause, c.ringSeconds, c.talkSeconds, c.recording,
            c.resumed, c.endedWhileDisconnected,
        ])
    }

    static func upsert(_ site: Site, fromAdmin: Bool, _ db: Database) throws {
        let json = String(decoding: try JSONEncoder().encode(site), as: UTF8.self)
        try db.execute(sql: """
            INSERT INTO site (id, definition, from_admin, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET definition = excluded.definition, from_admin = excluded.from_admin,
                updated_at = excluded.updated_at, retired_at = NULL
            """, arguments: [site.id, json, fromAdmin, now()])
    }

    /// Wall time for audit columns (`updated_at`, `retired_at`); domain times come from the callers.
    private static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}

/// Rows back to domain values.
enum Rows {
    static func lease(_ row: Row) -> Lease {
        Lease(
            poolID: row["pool_id"], number: (try? PhoneNumber.e164(row["number"] as String)) ?? fallbackNumber,
            sessionID: row["session_id"], visitorID: row["visitor_id"],
            startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]),
            lastActivityAt: Timestamp(microsecondsSinceEpoch: row["last_activity_at"]),
            expiresAt: Timestamp(microsecondsSinceEpoch: row["expires_at"]),
            endedAt: (row["ended_at"] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)),
            shared: row["shared"])
    }

    static func call(_ row: Row) -> CallRecord {
        func time(_ column: String) -> Timestamp? { (row[column] as Int64?).map(Timestamp.init(microsecondsSinceEpoch:)) }
        return CallRecord(
            id: row["id"], revision: row["revision"], trackingNumber: (row["tracking_number"] as String?).flatMap { try? PhoneNumber.e164($0) },
            dialled: row["dialled"], caller: (row["caller"] as String?).flatMap { try? PhoneNumber.e164($0) },
            callerRaw: row["caller_raw"], callerWithheld: row["caller_withheld"], callerName: row["caller_name"],
            startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]), answeredAt: time("answered_at"), endedAt: time("ended_at"),
            answeredBy: row["answered_by"], queue: row["queue"], disposition: row["disposition"], hangupCause: row["hangup_cause"],
            ringSeconds: row["ring_seconds"], talkSeconds: row["talk_seconds"], recording: row["recording"],
            resumed: row["resumed"], endedWhileDisconnected: row["ended_while_disconnected"])
    }

    static func session(_ row: Row) -> SessionRecord {
        let source = MarketingSource(
            utmSource: row["utm_source"], utmMedium: row["utm_medium"], utmCampaign: row["utm_campaign"],
            utmContent: row["utm_content"], utmTerm: row["utm_term"],
            clickIDs: ClickIDs(gclid: row["gclid"], yclid: row["yclid"], fbclid: row["fbclid"], msclkid: row["msclkid"]),
            referrer: row["referrer"], landingURL: row["landing_url"],
            channel: Channel(rawValue: row["channel"]) ?? .direct)
        return SessionRecord(
            id: row["id"], visitorID: row["visitor_id"], siteID: row["site_id"],
            startedAt: Timestamp(microsecondsSinceEpoch: row["started_at"]),
            lastActivityAt: Timestamp(microsecondsSinceEpoch: row["last_activity_at"]),
            source: source, userAgent: row["user_agent"], clientNetwork: row["client_network"],
            gaClientID: row["ga_client_id"], ymUID: row["ym_uid"], gaSessionID: row["ga_session_id"],
            number: (try? PhoneNumber.e164(row["number"] as String)) ?? fallbackNumber,
            kind: Assignment.Kind(rawValue: row["kind"]) ?? .fallback,
            reason: (row["reason"] as String?).flatMap(Assignment.FallbackReason.init(rawValue:)))
    }

    static func site(_ json: String) -> Site? {
        try? JSONDecoder().decode(Site.self, from: Data(json.utf8))
    }

    /// Only ever seen if someone edits the file by hand: every stored number was validated on the way in.
    static let fallbackNumber = try! PhoneNumber.e164("+10000000000")
}
