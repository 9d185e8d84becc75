import GRDB

/// The SQLite schema, as history: a shipped migration is never edited, only followed by new ones.
enum Schema {
    /// Copies every session once: a store with years of sessions takes a while, so it is announced.
    static let sessionsKeyedByID = "v11-sessions-keyed-by-id"
    /// Retention per kind and erasures.
    static let privacyMigration = "v17-privacy-redaction-erasure"

    static func migrator() -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-sessions-leases") { db in
            try db.execute(sql: """
                CREATE TABLE site (
                    id TEXT PRIMARY KEY NOT NULL,
                    definition TEXT NOT NULL,          -- JSON of the Site, as last changed by config or admin API
                    from_admin INTEGER NOT NULL DEFAULT 0, -- 1: the admin API changed it last; it outranks the config file
                    updated_at INTEGER NOT NULL
                );
                CREATE TABLE session (
                    id TEXT PRIMARY KEY NOT NULL,
                    visitor_id TEXT NOT NULL,
                    site_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,       -- µs since epoch
                    last_activity_at INTEGER NOT NULL,
                    utm_source TEXT, utm_medium TEXT, utm_campaign TEXT, utm_content TEXT, utm_term TEXT,
                    gclid TEXT, yclid TEXT, fbclid TEXT, msclkid TEXT,
                    referrer TEXT, landing_url TEXT,
                    channel TEXT NOT NULL,
                    user_agent TEXT, client_network TEXT, ga_client_id TEXT, ym_uid TEXT,
                    number TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('pool', 'static', 'fallback')),
                    reason TEXT
                );
                CREATE INDEX session_by_visitor ON session(visitor_id, started_at);
                CREATE TABLE lease (                 -- keyed by what a touch updates: one b-tree less per allocation
                    pool_id TEXT NOT NULL,
                    number TEXT NOT NULL,
                    session_id TEXT NOT NULL,
                    visitor_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    last_activity_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    ended_at INTEGER,
                    shared INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (session_id, number, started_at)
                ) WITHOUT ROWID;
                CREATE INDEX lease_by_number ON lease(number, expires_at);
                CREATE INDEX lease_by_visitor ON lease(visitor_id, started_at);
                """)
        }
        migrator.registerMigration("v2-site-retirement") { db in
            // Set when the admin API retired the site; the config file does not bring it back.
            try db.execute(sql: "ALTER TABLE site ADD COLUMN retired_at INTEGER")
        }
        migrator.registerMigration("v3-calls") { db in
            try db.execute(sql: """
                CREATE TABLE call (
                    id TEXT PRIMARY KEY NOT NULL,      -- Asterisk's Linkedid
                    revision INTEGER NOT NULL,         -- 1 ringing, 2 answered, 3 ended
                    tracking_number TEXT, dialled TEXT NOT NULL,
                    caller TEXT, caller_raw TEXT NOT NULL, caller_withheld INTEGER NOT NULL, caller_name TEXT,
                    started_at INTEGER NOT NULL, answered_at INTEGER, ended_at INTEGER,
                    answered_by TEXT, queue TEXT, disposition TEXT, hangup_cause INTEGER,
                    ring_seconds REAL, talk_seconds REAL, recording TEXT,
                    resumed INTEGER NOT NULL, ended_while_disconnected INTEGER NOT NULL
                );
                CREATE INDEX call_by_start ON call(started_at);
                CREATE INDEX call_by_caller ON call(caller, started_at);
                """)
        }
        migrator.registerMigration("v4-outbox") { db in
            try db.execute(sql: """
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused after a prune: ids are the delivery order
                    topic TEXT NOT NULL,                  -- 'lead': what consumes it
                    key TEXT NOT NULL,                    -- e.g. the call id
                    payload TEXT NOT NULL,                -- JSON of the change
                    enqueued_at INTEGER NOT NULL,         -- µs since epoch
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
                    done_at INTEGER,                      -- when delivered or set aside
                    last_error TEXT                       -- why it was set aside
                );
                CREATE INDEX outbox_pending ON outbox(topic, id) WHERE state = 'pending';
                CREATE INDEX outbox_done ON outbox(topic, state, done_at) WHERE state <> 'pending';
                """)
        }
        migrator.registerMigration("v5-leads") { db in
            try db.execute(sql: """
                CREATE TABLE lead (
                    call_id TEXT PRIMARY KEY NOT NULL,
                    revision INTEGER NOT NULL,
                    site_id TEXT NOT NULL,
                    visitor_id TEXT,
                    caller TEXT,
                    started_at INTEGER NOT NULL,
                    is_lead INTEGER NOT NULL,
                    match_kind TEXT NOT NULL,
                    payload TEXT NOT NULL,             -- JSON of the lead change, as delivered to PostgreSQL
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX lead_by_start ON lead(started_at);
                -- Open leads only: "is there an open lead of this visitor or caller" stays one index probe,
                -- however many repeat calls a caller made.
                CREATE INDEX open_lead_by_visitor ON lead(visitor_id, started_at) WHERE is_lead = 1;
                CREATE INDEX open_lead_by_caller ON lead(caller, started_at) WHERE is_lead = 1;
                CREATE TABLE phone_binding (          -- a caller's phone, bound to the visitor a matched call found
                    phone TEXT PRIMARY KEY NOT NULL,
                    visitor_id TEXT NOT NULL,
                    bound_at INTEGER NOT NULL,
                    call_id TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6-visitor-merges") { db in
            try db.execute(sql: """
                CREATE TABLE visitor_merge (           -- a visitor that turned out to be another one's device or cookie
                    merged_id TEXT PRIMARY KEY NOT NULL,
                    survivor_id TEXT NOT NULL,         -- always a visitor that is not itself merged (one level)
                    reason TEXT NOT NULL,
                    via TEXT NOT NULL,                 -- the identifier that linked them, e.g. phone:+79161234567
                    call_id TEXT,
                    merged_at INTEGER NOT NULL
                );
                CREATE INDEX visitor_merge_by_survivor ON visitor_merge(survivor_id);
                """)
        }
        migrator.registerMigration("v7-visitor-identifiers") { db in
            // Phones become one kind of identifier among analytics ids, click ids and CRM contacts.
            // Identifiers seen in sessions before this version are not linked after the fact: a merge they
            // imply would have no moment to be recorded at.
            try db.execute(sql: """
                CREATE TABLE visitor_identifier (      -- every identifier ever linked to a visitor, with its first owner
                    kind TEXT NOT NULL,                -- phone, ga, ym, gclid, yclid, fbclid, msclkid, crm
                    value TEXT NOT NULL,
                    visitor_id TEXT NOT NULL,
                    linked_at INTEGER NOT NULL,        -- first seen with this visitor
                    last_seen_at INTEGER NOT NULL,     -- last seen with anyone: retention counts from here
                    call_id TEXT,                      -- the call that bound a phone
                    PRIMARY KEY (kind, value)
                ) WITHOUT ROWID;
                CREATE INDEX visitor_identifier_by_visitor ON visitor_identifier(visitor_id);
                INSERT INTO visitor_identifier (kind, value, visitor_id, linked_at, last_seen_at, call_id)
                    SELECT 'phone', phone, visitor_id, bound_at, bound_at, call_id FROM phone_binding;
                DROP TABLE phone_binding;
                """)
        }
        migrator.registerMigration("v8-lead-dealer") { db in
            // The dealer a lead went to: the uniqueness scope `dealer` repeats only that dealer's open leads.
            try db.execute(sql: "ALTER TABLE lead ADD COLUMN dealer_id TEXT")
        }
        migrator.registerMigration("v9-no-lease-by-visitor") { db in
            // A visitor's leases are found through its sessions (session_by_visitor, then the lease key, which
            // starts with the session id): one b-tree less to write on every allocation.
            try db.execute(sql: "DROP INDEX lease_by_visitor")
        }
        migrator.registerMigration("v10-lease-keyed-by-time") { db in
            // Keyed by when it began: a new lease goes at the end of the table, not at a random place among
            // the session ids (snippet ids are random), so an allocation writes one random index page fewer.
            // Nothing looks leases up by session any more: a visitor's previous number comes from its
            // latest pool session.
            try db.execute(sql: """
                CREATE TABLE lease_v10 (
                    pool_id TEXT NOT NULL,
                    number TEXT NOT NULL,
                    session_id TEXT NOT NULL,
                    visitor_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    last_activity_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    ended_at INTEGER,
                    shared INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (started_at, session_id, number)
                ) WITHOUT ROWID;
                INSERT INTO lease_v10 (pool_id, number, session_id, visitor_id, started_at, last_activity_at, expires_at, ended_at, shared)
                    SELECT pool_id, number, session_id, visitor_id, started_at, last_activity_at, expires_at, ended_at, shared FROM lease;
                DROP TABLE lease;
                ALTER TABLE lease_v10 RENAME TO lease;
                CREATE INDEX lease_by_number ON lease(number, expires_at);
                """)
        }
        migrator.registerMigration(sessionsKeyedByID) { db in
            // Two costs of every allocation on the store writer, its serial step:
            // - a rowid table with a TEXT primary key is two b-trees, the rows by rowid and an index from id
            //   to rowid; keyed by id alone, a new session is one insert fewer (ids are time-ordered, so
            //   inserts still append);
            // - `kind IN ('pool', 'static', 'fallback')` made SQLite build a temporary b-tree of the list for
            //   every insert: ~5 µs, about 15% of the writer's CPU per allocation. The same check as plain
            //   comparisons costs nothing.
            try db.execute(sql: """
                CREATE TABLE session_v11 (
                    id TEXT PRIMARY KEY NOT NULL,
                    visitor_id TEXT NOT NULL,
                    site_id TEXT NOT NULL,
                    started_at INTEGER NOT NULL,       -- µs since epoch
                    last_activity_at INTEGER NOT NULL,
                    utm_source TEXT, utm_medium TEXT, utm_campaign TEXT, utm_content TEXT, utm_term TEXT,
                    gclid TEXT, yclid TEXT, fbclid TEXT, msclkid TEXT,
                    referrer TEXT, landing_url TEXT,
                    channel TEXT NOT NULL,
                    user_agent TEXT, client_network TEXT, ga_client_id TEXT, ym_uid TEXT,
                    number TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind = 'pool' OR kind = 'static' OR kind = 'fallback'),
                    reason TEXT
                ) WITHOUT ROWID;
                INSERT INTO session_v11 SELECT id, visitor_id, site_id, started_at, last_activity_at,
                    utm_source, utm_medium, utm_campaign, utm_content, utm_term, gclid, yclid, fbclid, msclkid,
                    referrer, landing_url, channel, user_agent, client_network, ga_client_id, ym_uid, number, kind, reason
                    FROM session ORDER BY id;
                DROP TABLE session;
                ALTER TABLE session_v11 RENAME TO session;
                CREATE INDEX session_by_visitor ON session(visitor_id, started_at);
                """)
        }
        migrator.registerMigration("v12-lead-verdict") { db in
            // A lead's verdict as columns: the repeats of a lead that turns junk are found and decided again
            // (one index probe), and a repeat is told from junk without reading the payload.
            try db.execute(sql: """
                ALTER TABLE lead ADD COLUMN repeat_of TEXT;
                ALTER TABLE lead ADD COLUMN junk_reason TEXT;
                UPDATE lead SET repeat_of = json_extract(payload, '$.repeatOf'), junk_reason = json_extract(payload, '$.junkReason')
                    WHERE json_valid(payload);
                CREATE INDEX lead_by_repeat_of ON lead(repeat_of) WHERE repeat_of IS NOT NULL;
                """)
        }
        migrator.registerMigration("v13-lead-columns") { db in
            // A lead as typed columns, the whole of it: the payload (JSON of the lead, its touches, journey and match
            // explanation as JSON text inside it) is converted once, here. Touches and the journey stay JSON values
            // (the shape PostgreSQL's attribution views read), checked as such. `call_revision` is the call revision
            // the lead was brought up to; `revision` the lead's own, which a repeat decided again raises.
            // Payloads of both shapes are read: JSON text inside JSON (older daemons) and nested JSON. A payload that
            // is not JSON keeps what its columns knew.
            try db.execute(sql: """
                CREATE TABLE lead_v13 (
                    call_id TEXT PRIMARY KEY NOT NULL,
                    call_revision INTEGER NOT NULL CHECK (call_revision >= 0),
                    revision INTEGER NOT NULL CHECK (revision >= 0),
                    site_id TEXT NOT NULL,
                    tracking_number TEXT NOT NULL,
                    caller TEXT,                       -- E.164; NULL when withheld or not a number
                    caller_raw TEXT NOT NULL,          -- what Asterisk sent
                    caller_name TEXT,
                    started_at INTEGER NOT NULL,       -- µs since epoch
                    answered_at INTEGER,
                    ended_at INTEGER,
                    disposition TEXT NOT NULL CHECK (disposition = 'ringing' OR disposition = 'answered'
                        OR disposition = 'no_answer' OR disposition = 'busy' OR disposition = 'failed'
                        OR disposition = 'abandoned' OR disposition = 'unknown'),
                    answered_by TEXT,
                    talk_seconds INTEGER NOT NULL CHECK (talk_seconds >= 0),
                    ring_seconds INTEGER NOT NULL CHECK (ring_seconds >= 0),
                    match_kind TEXT NOT NULL CHECK (match_kind = 'exact' OR match_kind = 'shared' OR match_kind = 'late'
                        OR match_kind = 'repeat' OR match_kind = 'static' OR match_kind = 'unmatched'),
                    match_confidence REAL NOT NULL CHECK (match_confidence >= 0 AND match_confidence <= 1),
                    candidate_count INTEGER NOT NULL CHECK (candidate_count >= 0),
                    match_rule TEXT NOT NULL,
                    match_session_id TEXT,
                    match_visitor_id TEXT,
                    match_candidates TEXT NOT NULL CHECK (json_type(match_candidates) = 'array'),
                    static_source TEXT CHECK (static_source IS NULL OR json_type(static_source) = 'object'),
                    visitor_id TEXT,                   -- the person (survivor) when the lead was opened
                    user_agent TEXT,
                    first_touch TEXT CHECK (first_touch IS NULL OR json_type(first_touch) = 'object'),
                    last_touch TEXT CHECK (last_touch IS NULL OR json_type(last_touch) = 'object'),
                    journey TEXT NOT NULL CHECK (json_type(journey) = 'array'),
                    dealer_id TEXT,
                    junk_reason TEXT CHECK (junk_reason IS NULL OR junk_reason = 'blocked_caller' OR junk_reason = 'anonymous'
                        OR junk_reason = 'caller_not_a_number' OR junk_reason = 'short_talk'),
                    repeat_of TEXT,
                    is_lead INTEGER NOT NULL CHECK (is_lead = (junk_reason IS NULL AND repeat_of IS NULL)),
                    changed_at INTEGER NOT NULL,       -- when this revision was made
                    updated_at INTEGER NOT NULL        -- when it was stored
                );
                INSERT INTO lead_v13
                SELECT call_id, call_revision, revision, site_id, tracking_number, caller, caller_raw, caller_name, started_at,
                       answered_at, ended_at, disposition, answered_by, talk_seconds, ring_seconds, match_kind, match_confidence,
                       candidate_count, match_rule, match_session_id, match_visitor_id, match_candidates, static_source,
                       visitor_id, user_agent, first_touch, last_touch, journey, dealer_id, junk_reason, repeat_of,
                       junk_reason IS NULL AND repeat_of IS NULL, changed_at, updated_at
                FROM (
                    SELECT o.call_id, o.revision AS call_revision,
                        coalesce(json_extract(o.p, '$.revision'), o.revision) AS revision,
                        o.site_id, coalesce(json_extract(o.p, '$.trackingNumber'), o.call_tracking_number, '') AS tracking_number,
                        CASE WHEN o.call_exists THEN o.call_caller WHEN o.caller GLOB '+[1-9]*' THEN o.caller END AS caller,
                        coalesce(json_extract(o.p, '$.callerRaw'), o.call_caller_raw, o.caller, '') AS caller_raw,
                        json_extract(o.p, '$.callerName') AS caller_name, o.started_at,
                        json_extract(o.p, '$.answeredAt.microsecondsSinceEpoch') AS answered_at,
                        json_extract(o.p, '$.endedAt.microsecondsSinceEpoch') AS ended_at,
                        CASE WHEN json_extract(o.p, '$.disposition') IN ('ringing', 'answered', 'no_answer', 'busy', 'failed', 'abandoned', 'unknown')
                             THEN json_extract(o.p, '$.disposition') ELSE 'unknown' END AS disposition,
                        json_extract(o.p, '$.answeredBy') AS answered_by,
                        max(0, CAST(coalesce(json_extract(o.p, '$.talkSeconds'), 0) AS INTEGER)) AS talk_seconds,
                        max(0, CAST(coalesce(json_extract(o.p, '$.ringSeconds'), 0) AS INTEGER)) AS ring_seconds,
                        CASE WHEN o.match_kind IN ('exact', 'shared', 'late', 'repeat', 'static') THEN o.match_kind ELSE 'unmatched' END AS match_kind,
                        coalesce(CASE WHEN typeof(json_extract(o.p, '$.matchConfidence')) IN ('integer', 'real') THEN
                            CASE WHEN json_extract(o.p, '$.matchConfidence') BETWEEN 0 AND 1 THEN json_extract(o.p, '$.matchConfidence') END
                        END, 0) AS match_confidence,
                        max(0, CAST(coalesce(json_extract(o.p, '$.candidateCount'), 0) AS INTEGER)) AS candidate_count,
                        coalesce(json_extract(o.e, '$.rule'), '') AS match_rule,
                        coalesce(json_extract(o.e, '$.sessionID'), json_extract(o.p, '$.sessionID')) AS match_session_id,
                        CASE WHEN o.nested THEN json_extract(o.e, '$.visitorID')
                             ELSE coalesce(
                                (SELECT json_extract(c.value, '$.visitor_id') FROM json_each(o.e, '$.candidates') AS c
                                 WHERE json_extract(c.value, '$.rejected_because') IS NULL LIMIT 1),
                                CASE WHEN json_extract(o.p, '$.sessionID') IS NOT NULL THEN o.visitor_id END) END AS match_visitor_id,
                        CASE WHEN o.nested THEN coalesce(json_extract(o.e, '$.candidates'), '[]')
                             ELSE (SELECT json_group_array(json_object(
                                    'sessionID', coalesce(json_extract(c.value, '$.session_id'), ''),
                                    'visitorID', coalesce(json_extract(c.value, '$.visitor_id'), ''),
                                    'leaseStart', json_object('microsecondsSinceEpoch',
                                        coalesce(CAST(strftime('%s', json_extract(c.value, '$.lease_start')) AS INTEGER), 0) * 1000000),
                                    'leaseEnd', json_object('microsecondsSinceEpoch',
                                        coalesce(CAST(strftime('%s', json_extract(c.value, '$.lease_end')) AS INTEGER), 0) * 1000000),
                                    'lastActivity', json_object('microsecondsSinceEpoch',
                                        coalesce(CAST(strftime('%s', json_extract(c.value, '$.last_activity')) AS INTEGER), 0) * 1000000),
                                    'rejectedBecause', json_extract(c.value, '$.rejected_because')))
                                   FROM json_each(o.e, '$.candidates') AS c) END AS match_candidates,
                        CASE WHEN json_type(o.e, '$.staticSource') = 'object' THEN json_extract(o.e, '$.staticSource') END AS static_source,
                        o.visitor_id, json_extract(o.p, '$.userAgent') AS user_agent,
                        CASE json_type(o.p, '$.firstTouch')
                            WHEN 'object' THEN json_extract(o.p, '$.firstTouch')
                            WHEN 'text' THEN CASE WHEN json_valid(json_extract(o.p, '$.firstTouch')) THEN
                                CASE WHEN json_type(json_extract(o.p, '$.firstTouch')) = 'object' THEN json(json_extract(o.p, '$.firstTouch')) END END
                        END AS first_touch,
                        CASE json_type(o.p, '$.lastTouch')
                            WHEN 'object' THEN json_extract(o.p, '$.lastTouch')
                            WHEN 'text' THEN CASE WHEN json_valid(json_extract(o.p, '$.lastTouch')) THEN
                                CASE WHEN json_type(json_extract(o.p, '$.lastTouch')) = 'object' THEN json(json_extract(o.p, '$.lastTouch')) END END
                        END AS last_touch,
                        coalesce(CASE json_type(o.p, '$.journey')
                            WHEN 'array' THEN json_extract(o.p, '$.journey')
                            WHEN 'text' THEN CASE WHEN json_valid(json_extract(o.p, '$.journey')) THEN
                                CASE WHEN json_type(json_extract(o.p, '$.journey')) = 'array' THEN json(json_extract(o.p, '$.journey')) END END
                        END, '[]') AS journey,
                        o.dealer_id,
                        CASE WHEN o.junk_reason IN ('blocked_caller', 'anonymous', 'caller_not_a_number', 'short_talk')
                             THEN o.junk_reason END AS junk_reason,
                        o.repeat_of,
                        coalesce(json_extract(o.p, '$.changedAt.microsecondsSinceEpoch'), o.updated_at) AS changed_at, o.updated_at
                    FROM (
                        SELECT x.*, json_type(x.p, '$.matchExplanation') = 'object' AS nested,
                            coalesce(CASE json_type(x.p, '$.matchExplanation')
                                WHEN 'object' THEN json_extract(x.p, '$.matchExplanation')
                                WHEN 'text' THEN CASE WHEN json_valid(json_extract(x.p, '$.matchExplanation'))
                                    THEN CASE WHEN json_type(json_extract(x.p, '$.matchExplanation')) = 'object'
                                        THEN json_extract(x.p, '$.matchExplanation') END END
                            END, '{}') AS e
                        FROM (
                            SELECT l.*, c.id IS NOT NULL AS call_exists, c.caller AS call_caller, c.caller_raw AS call_caller_raw,
                                c.tracking_number AS call_tracking_number,
                                coalesce(CASE WHEN json_valid(l.payload) THEN CASE WHEN json_type(l.payload) = 'object'
                                    THEN l.payload END END, '{}') AS p
                            FROM lead l LEFT JOIN call c ON c.id = l.call_id
                        ) AS x
                    ) AS o
                );
                DROP TABLE lead;
                ALTER TABLE lead_v13 RENAME TO lead;
                CREATE INDEX lead_by_start ON lead(started_at);
                CREATE INDEX open_lead_by_visitor ON lead(visitor_id, started_at) WHERE is_lead = 1;
                CREATE INDEX open_lead_by_caller ON lead(caller, started_at) WHERE is_lead = 1;
                CREATE INDEX lead_by_repeat_of ON lead(repeat_of) WHERE repeat_of IS NOT NULL;
                """)
        }
        migrator.registerMigration("v14-outbox-references") { db in
            // An entry says *that* a lead (key: its call id, with the revision that changed) or a merge (key
            // `merge:<visitor>`) changed; the delivery reads the lead or the merge itself when it delivers. Ids,
            // their order and the id sequence stay: an id is never reused after a prune.
            try db.execute(sql: """
                CREATE TABLE outbox_v14 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, -- the delivery order
                    topic TEXT NOT NULL,                  -- 'lead': what consumes it
                    key TEXT NOT NULL,                    -- a call id, or merge:<merged visitor id>
                    revision INTEGER,                     -- the lead revision that changed; NULL for a merge
                    enqueued_at INTEGER NOT NULL,         -- µs since epoch
                    state TEXT NOT NULL DEFAULT 'pending' CHECK (state = 'pending' OR state = 'delivered' OR state = 'failed'),
                    done_at INTEGER,                      -- when delivered or set aside
                    last_error TEXT                       -- why it was set aside
                );
                INSERT INTO outbox_v14 (id, topic, key, revision, enqueued_at, state, done_at, last_error)
                    SELECT id, topic, key,
                        CASE WHEN json_valid(payload) THEN CASE WHEN json_type(payload, '$.revision') = 'integer'
                            THEN json_extract(payload, '$.revision') END END,
                        enqueued_at, state, done_at, last_error
                    FROM outbox ORDER BY id;
                DELETE FROM sqlite_sequence WHERE name = 'outbox_v14';
                INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v14', seq FROM sqlite_sequence WHERE name = 'outbox';
                DROP TABLE outbox;
                ALTER TABLE outbox_v14 RENAME TO outbox;
                CREATE INDEX outbox_pending ON outbox(topic, id) WHERE state = 'pending';
                CREATE INDEX outbox_done ON outbox(topic, state, done_at) WHERE state <> 'pending';
                """)
        }
        migrator.registerMigration("v15-outbox-cursors") { db in
            // The outbox becomes a log read by several destinations (PostgreSQL now; webhooks and analytics next),
            // each at its own pace: a row no longer carries a delivery state, each destination keeps how far it
            // delivered (its cursor) and the entries it set aside (its failures). Today's rows are converted for
            // the destination `postgres`: its cursor sits just below its oldest pending entry (at the newest entry
            // when none is pending), and failed entries become its failures. Ids and the id sequence stay.
            try db.execute(sql: """
                CREATE TABLE outbox_v15 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, -- the delivery order; never reused after a prune
                    topic TEXT NOT NULL,                  -- 'lead': what consumes it
                    key TEXT NOT NULL,                    -- a call id, or merge:<merged visitor id>
                    revision INTEGER,                     -- the lead revision that changed; NULL for a merge
                    enqueued_at INTEGER NOT NULL          -- µs since epoch
                );
                CREATE TABLE outbox_cursor (             -- one per destination: every entry up to delivered_through is done
                    destination TEXT PRIMARY KEY NOT NULL,
                    topic TEXT NOT NULL,
                    delivered_through INTEGER NOT NULL CHECK (delivered_through >= 0),
                    updated_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE TABLE outbox_failure (            -- entries a destination set aside, with why; kept for an operator
                    destination TEXT NOT NULL,
                    outbox_id INTEGER NOT NULL,
                    error TEXT NOT NULL,
                    failed_at INTEGER NOT NULL,
                    PRIMARY KEY (destination, outbox_id)
                ) WITHOUT ROWID;
                CREATE INDEX outbox_failure_by_entry ON outbox_failure(outbox_id);
                INSERT INTO outbox_v15 (id, topic, key, revision, enqueued_at)
                    SELECT id, topic, key, revision, enqueued_at FROM outbox ORDER BY id;
                INSERT INTO outbox_cursor (destination, topic, delivered_through, updated_at)
                    SELECT 'postgres', 'lead',
                        coalesce((SELECT min(id) - 1 FROM outbox WHERE topic = 'lead' AND state = 'pending'),
                                 (SELECT max(id) FROM outbox WHERE topic = 'lead')),
                        coalesce((SELECT max(done_at) FROM outbox WHERE topic = 'lead'), 0)
                    WHERE EXISTS (SELECT 1 FROM outbox WHERE topic = 'lead');
                INSERT INTO outbox_failure (destination, outbox_id, error, failed_at)
                    SELECT 'postgres', id, coalesce(last_error, ''), coalesce(done_at, enqueued_at)
                    FROM outbox WHERE topic = 'lead' AND state = 'failed';
                DELETE FROM sqlite_sequence WHERE name = 'outbox_v15';
                INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v15', seq FROM sqlite_sequence WHERE name = 'outbox';
                DROP TABLE outbox;
                ALTER TABLE outbox_v15 RENAME TO outbox;
                """)
        }
        migrator.registerMigration("v16-pool-statistics") { db in
            // Per pool, per minute (seconds = 60) or, rolled up after a month, per hour (seconds = 3600): the
            // traffic ops size the pool by (PoolMinute). Counters only add, so a bucket written twice (a retry,
            // a restart within the minute) adds up instead of being lost.
            try db.execute(sql: """
                CREATE TABLE pool_statistics (
                    pool_id TEXT NOT NULL,
                    seconds INTEGER NOT NULL CHECK (seconds = 60 OR seconds = 3600),
                    start INTEGER NOT NULL,              -- µs since epoch, a whole minute or hour
                    size INTEGER NOT NULL CHECK (size >= 0),
                    live_sum INTEGER NOT NULL CHECK (live_sum >= 0),
                    live_samples INTEGER NOT NULL CHECK (live_samples >= 0),
                    live_peak INTEGER NOT NULL CHECK (live_peak >= 0),
                    allocations INTEGER NOT NULL CHECK (allocations >= 0),
                    shared INTEGER NOT NULL CHECK (shared >= 0),
                    exhaustions INTEGER NOT NULL CHECK (exhaustions >= 0),
                    sessions INTEGER NOT NULL CHECK (sessions >= 0),
                    cooldown_seconds REAL NOT NULL CHECK (cooldown_seconds >= 0),
                    calls_exact INTEGER NOT NULL DEFAULT 0,
                    calls_shared INTEGER NOT NULL DEFAULT 0,
                    calls_late INTEGER NOT NULL DEFAULT 0,
                    calls_repeat INTEGER NOT NULL DEFAULT 0,
                    calls_static INTEGER NOT NULL DEFAULT 0,
                    calls_unmatched INTEGER NOT NULL DEFAULT 0,
                    late_gaps TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(late_gaps)),  -- seconds after the lease ended, per late call
                    PRIMARY KEY (pool_id, seconds, start)
                ) WITHOUT ROWID;
                CREATE INDEX pool_statistics_by_time ON pool_statistics(seconds, start);
                """)
        }
        migrator.registerMigration(privacyMigration) { db in
            // Retention per kind of personal data, and erasures (SPEC §Privacy).
            // - `lead.redacted`: the kinds (PersonalData bits) already redacted from the lead, so the daily sweep
            //   passes over a lead once per kind, not every day.
            // - `erasure`: that a person was forgotten, when, named by which visitor id, by whom (a token's name,
            //   or the command line), and how much was erased; never what was erased.
            try db.execute(sql: """
                ALTER TABLE lead ADD COLUMN redacted INTEGER NOT NULL DEFAULT 0 CHECK (redacted >= 0);
                CREATE TABLE erasure (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    erased_at INTEGER NOT NULL,        -- µs since epoch
                    visitor_id TEXT,                   -- the visitor id it was asked for (or the phone's person); NULL: a phone no visitor had
                    by TEXT NOT NULL,                  -- the admin token's name, or 'command line'
                    visitors INTEGER NOT NULL CHECK (visitors >= 0),
                    sessions INTEGER NOT NULL CHECK (sessions >= 0),
                    calls INTEGER NOT NULL CHECK (calls >= 0),
                    leads INTEGER NOT NULL CHECK (leads >= 0),
                    identifiers INTEGER NOT NULL CHECK (identifiers >= 0),
                    merges INTEGER NOT NULL CHECK (merges >= 0)
                );
                """)
        }
        migrator.registerMigration("v18-pool-statistics-hours") { db in
            // Every hour of pool_statistics rolled up once, kept beside its minutes and rewritten whenever one of
            // them is written: a week or a month by the hour reads 168 or 720 rows a pool instead of every
            // minute. An hour keeps what its minutes would say: the lease-seconds they held (each minute's mean
            // live × 60) and how many minutes ran at each utilisation, as "per-mille:minutes" pairs.
            try db.execute(sql: """
                CREATE TABLE pool_statistics_hour (
                    pool_id TEXT NOT NULL,
                    start INTEGER NOT NULL,              -- µs since epoch, a whole hour
                    size INTEGER NOT NULL CHECK (size >= 0),
                    live_sum INTEGER NOT NULL CHECK (live_sum >= 0),
                    live_samples INTEGER NOT NULL CHECK (live_samples >= 0),
                    live_peak INTEGER NOT NULL CHECK (live_peak >= 0),
                    allocations INTEGER NOT NULL CHECK (allocations >= 0),
                    shared INTEGER NOT NULL CHECK (shared >= 0),
                    exhaustions INTEGER NOT NULL CHECK (exhaustions >= 0),
                    sessions INTEGER NOT NULL CHECK (sessions >= 0),
                    cooldown_seconds REAL NOT NULL CHECK (cooldown_seconds >= 0),
                    calls_exact INTEGER NOT NULL DEFAULT 0,
                    calls_shared INTEGER NOT NULL DEFAULT 0,
                    calls_late INTEGER NOT NULL DEFAULT 0,
                    calls_repeat INTEGER NOT NULL DEFAULT 0,
                    calls_static INTEGER NOT NULL DEFAULT 0,
                    calls_unmatched INTEGER NOT NULL DEFAULT 0,
                    late_gaps TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(late_gaps)),
                    minute_lease_seconds REAL NOT NULL CHECK (minute_lease_seconds >= 0),
                    minute_utilisation TEXT NOT NULL DEFAULT '',
                    PRIMARY KEY (pool_id, start)
                ) WITHOUT ROWID;
                INSERT INTO pool_statistics_hour
                SELECT pool_id, start, size, live_sum, live_samples, live_peak, allocations, shared, exhaustions, sessions,
                    cooldown_seconds, calls_exact, calls_shared, calls_late, calls_repeat, calls_static, calls_unmatched, late_gaps,
                    CASE WHEN live_samples > 0 THEN live_sum * 3600.0 / live_samples ELSE 0 END,
                    CASE WHEN size > 0 AND live_samples > 0 THEN CAST(live_sum * 1000.0 / live_samples / size AS INTEGER) || ':1' ELSE '' END
                FROM pool_statistics WHERE seconds = 3600;
                INSERT INTO pool_statistics_hour
                SELECT pool_id, hour, size, live_sum, live_samples, live_peak, allocations, shared, exhaustions, sessions, cooldown_seconds,
                    calls_exact, calls_shared, calls_late, calls_repeat, calls_static, calls_unmatched, late_gaps, lease_seconds, utilisation
                FROM (
                    SELECT pool_id, start - start % 3600000000 AS hour, max(start), size, cooldown_seconds,
                        sum(live_sum) AS live_sum, sum(live_samples) AS live_samples, max(live_peak) AS live_peak,
                        sum(allocations) AS allocations, sum(shared) AS shared, sum(exhaustions) AS exhaustions, sum(sessions) AS sessions,
                        sum(calls_exact) AS calls_exact, sum(calls_shared) AS calls_shared, sum(calls_late) AS calls_late,
                        sum(calls_repeat) AS calls_repeat, sum(calls_static) AS calls_static, sum(calls_unmatched) AS calls_unmatched,
                        '[' || coalesce(group_concat(CASE WHEN late_gaps <> '[]' THEN substr(late_gaps, 2, length(late_gaps) - 2) END), '') || ']' AS late_gaps,
                        sum(CASE WHEN live_samples > 0 THEN live_sum * 60.0 / live_samples ELSE 0 END) AS lease_seconds,
                        coalesce(group_concat(CASE WHEN size > 0 AND live_samples > 0
                            THEN CAST(live_sum * 1000.0 / live_samples / size AS INTEGER) || ':1' END, ' '), '') AS utilisation
                    FROM pool_statistics WHERE seconds = 60 GROUP BY pool_id, hour
                ) WHERE true
                ON CONFLICT (pool_id, start) DO UPDATE SET
                    live_sum = live_sum + excluded.live_sum, live_samples = live_samples + excluded.live_samples,
                    live_peak = max(live_peak, excluded.live_peak), allocations = allocations + excluded.allocations,
                    shared = shared + excluded.shared, exhaustions = exhaustions + excluded.exhaustions, sessions = sessions + excluded.sessions,
                    calls_exact = calls_exact + excluded.calls_exact, calls_shared = calls_shared + excluded.calls_shared,
                    calls_late = calls_late + excluded.calls_late, calls_repeat = calls_repeat + excluded.calls_repeat,
                    calls_static = calls_static + excluded.calls_static, calls_unmatched = calls_unmatched + excluded.calls_unmatched,
                    late_gaps = (SELECT json_group_array(value) FROM (SELECT value FROM json_each(late_gaps) UNION ALL SELECT value FROM json_each(excluded.late_gaps))),
                    minute_lease_seconds = minute_lease_seconds + excluded.minute_lease_seconds,
                    minute_utilisation = trim(minute_utilisation || ' ' || excluded.minute_utilisation);
                """)
        }
        migrator.registerMigration("v19-lead-dealer-routing") { db in
            // A lead's dealer is decided per call by dealer routing: how (`dealer_rule`, RoutingDecision.Rule) and why
            // (`dealer_reason`, the decision's sentence) are stored with it. Leads stored before had the site's fixed
            // dealer: they get the rule `site` and a reason that says so. The sticky dealer is looked up by person
            // and by caller among every lead with a dealer (repeats included), hence two partial indexes.
            try db.execute(sql: """
                ALTER TABLE lead ADD COLUMN dealer_rule TEXT CHECK (dealer_rule IS NULL OR dealer_rule IN
                    ('sticky', 'caller', 'area', 'country', 'any_region', 'none', 'site'));
                ALTER TABLE lead ADD COLUMN dealer_reason TEXT;
                UPDATE lead SET dealer_rule = 'site', dealer_reason = 'the site''s dealer (stored before dealer routing)'
                    WHERE dealer_id IS NOT NULL;
                CREATE INDEX lead_dealer_by_visitor ON lead(visitor_id, started_at) WHERE dealer_id IS NOT NULL;
                CREATE INDEX lead_dealer_by_caller ON lead(caller, started_at) WHERE dealer_id IS NOT NULL;
                """)
        }
        migrator.registerMigration("v20-dealer-statistics") { db in
            // Per dealer, per hour (UTC) the calls started in: what the lead path tallies as each call's lead changes
            // (DealerTally). Counters only add. `answer_seconds` lists each answered call's time to answer, for the
            // percentiles. `dealer_missed_call` keeps each unanswered call from a number with the dealer's first callback
            // after it; `dealer_callback` the callbacks (outbound calls from its targets seen on AMI), so a callback
            // stored before the miss it answers (the two come on separate streams) still finds it.
            try db.execute(sql: """
                CREATE TABLE dealer_statistics (
                    dealer_id TEXT NOT NULL,
                    start INTEGER NOT NULL,              -- µs since epoch, a whole hour
                    offered INTEGER NOT NULL DEFAULT 0 CHECK (offered >= 0),
                    answered INTEGER NOT NULL DEFAULT 0 CHECK (answered >= 0),
                    missed INTEGER NOT NULL DEFAULT 0 CHECK (missed >= 0),
                    abandoned INTEGER NOT NULL DEFAULT 0 CHECK (abandoned >= 0),
                    busy INTEGER NOT NULL DEFAULT 0 CHECK (busy >= 0),
                    talk_seconds INTEGER NOT NULL DEFAULT 0 CHECK (talk_seconds >= 0),
                    leads INTEGER NOT NULL DEFAULT 0 CHECK (leads >= 0),
                    junk INTEGER NOT NULL DEFAULT 0 CHECK (junk >= 0),
                    answer_seconds TEXT NOT NULL DEFAULT '[]' CHECK (json_type(answer_seconds) = 'array'),
                    PRIMARY KEY (dealer_id, start)
                ) WITHOUT ROWID;
                CREATE INDEX dealer_statistics_by_time ON dealer_statistics(start);
                CREATE TABLE dealer_missed_call (
                    call_id TEXT PRIMARY KEY NOT NULL,
                    dealer_id TEXT NOT NULL,
                    caller TEXT NOT NULL,                -- E.164
                    missed_at INTEGER NOT NULL,          -- µs since epoch: when the call ended unanswered
                    called_back_at INTEGER CHECK (called_back_at IS NULL OR called_back_at >= missed_at)
                );
                CREATE INDEX dealer_missed_call_by_caller ON dealer_missed_call(dealer_id, caller, missed_at) WHERE called_back_at IS NULL;
                CREATE INDEX dealer_missed_call_by_time ON dealer_missed_call(missed_at);
                CREATE TABLE dealer_callback (             -- outbound calls from a dealer's targets, as AMI showed them
                    dealer_id TEXT NOT NULL,
                    caller TEXT NOT NULL,                -- the number called, E.164
                    called_at INTEGER NOT NULL,          -- µs since epoch
                    PRIMARY KEY (dealer_id, caller, called_at)
                ) WITHOUT ROWID;
                CREATE INDEX dealer_callback_by_time ON dealer_callback(called_at);
                """)
        }
        migrator.registerMigration("v21-admin-dealers") { db in
            // Dealers created or changed through the admin API, as sent (JSON of the API's dealer definition); they
            // outrank the config file at the next start, and a retired one stays retired.
            try db.execute(sql: """
                CREATE TABLE dealer (
                    id TEXT PRIMARY KEY NOT NULL,
                    definition TEXT NOT NULL CHECK (json_type(definition) = 'object'),
                    retired_at INTEGER,                  -- µs since epoch; set: routing does not use it
                    updated_at INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v22-lead-outcomes") { db in
            // What became of each lead in the CRM (`outcomes`: JSON of `[DealOutcome]`, one per stage) and when its
            // dealer called an unanswered caller back (`called_back_at`, µs): both travel with the lead to every
            // destination. Callbacks already seen are copied from the dealer's missed calls.
            try db.execute(sql: """
                ALTER TABLE lead ADD COLUMN outcomes TEXT NOT NULL DEFAULT '[]' CHECK (json_type(outcomes) = 'array');
                ALTER TABLE lead ADD COLUMN called_back_at INTEGER;
                UPDATE lead SET called_back_at = (SELECT m.called_back_at FROM dealer_missed_call m WHERE m.call_id = lead.call_id)
                    WHERE call_id IN (SELECT call_id FROM dealer_missed_call WHERE called_back_at IS NOT NULL);
                CREATE INDEX lead_with_outcomes ON lead(started_at) WHERE outcomes <> '[]';
                """)
        }
        migrator.registerMigration("v25-ad-costs") { db in
            // What the ad cabinets reported spending per day and campaign (`AdCost`), the campaign as touches are
            // matched to it (lower case). An import replaces the days and campaigns it names. `synced_at` is when
            // the row was copied to PostgreSQL's `ad_cost` (NULL: it waits), so a PostgreSQL that was down gets every
            // row once it is back.
            try db.execute(sql: """
                CREATE TABLE ad_cost (
                    day INTEGER NOT NULL,                -- days since 1970-01-01 (UTC)
                    source TEXT NOT NULL,
                    medium TEXT NOT NULL,
                    campaign TEXT NOT NULL,
                    currency TEXT NOT NULL CHECK (length(currency) = 3),
                    cost INTEGER NOT NULL CHECK (cost >= 0),   -- hundredths of the currency
                    imported_at INTEGER NOT NULL,        -- µs since epoch
                    synced_at INTEGER,
                    PRIMARY KEY (day, source, medium, campaign)
                ) WITHOUT ROWID;
                CREATE INDEX ad_cost_waiting ON ad_cost(imported_at) WHERE synced_at IS NULL;
                """)
        }
        migrator.registerMigration("v24-ga-session-id") { db in
            // GA4's session id of a visit (the number in its `_ga_<container-id>` cookie), sent with the visit's
            // calls as the events' `session_id`. `conversion_event`: what each analytics destination (`ga4:<id>`)
            // sent or skipped for good per lead and kind, so a lead delivered again at a later revision never sends
            // the same event twice.
            try db.execute(sql: """
                ALTER TABLE session ADD COLUMN ga_session_id TEXT
                    CHECK (ga_session_id IS NULL OR (length(ga_session_id) BETWEEN 1 AND 20 AND ga_session_id NOT GLOB '*[^0-9]*'));
                CREATE TABLE conversion_event (
                    destination TEXT NOT NULL,
                    call_id TEXT NOT NULL,
                    kind TEXT NOT NULL CHECK (kind IN ('call', 'won')),
                    outcome TEXT NOT NULL CHECK (outcome IN ('sent', 'skipped')),
                    reason TEXT CHECK ((outcome = 'skipped') = (reason IS NOT NULL)),
                    at INTEGER NOT NULL,                 -- µs since epoch
                    PRIMARY KEY (destination, call_id, kind)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
