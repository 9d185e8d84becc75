extension PostgresSchema {
    /// Version 1: the lead table, CRM sync state, and one attribution view per model.
    ///
    /// `journey` is a JSON array of touches, oldest first; each touch is an object with
    /// `session_id`, `at` (epoch seconds, a number), `source`, `medium`, `campaign`, `channel`.
    /// `first_touch` and `last_touch` are touches of the same shape.
    var leadsV1: String {
        let s = "\"\(name)\""
        return """
        CREATE TABLE \(s).lead (
            call_id text PRIMARY KEY,
            revision bigint NOT NULL CHECK (revision >= 0),
            site_id text NOT NULL,
            tracking_number text NOT NULL,
            caller text,
            caller_name text,
            started_at timestamptz NOT NULL,
            answered_at timestamptz,
            ended_at timestamptz,
            disposition text NOT NULL CHECK (disposition IN ('ringing', 'answered', 'no_answer', 'busy', 'failed', 'abandoned')),
            answered_by text,
            talk_seconds integer NOT NULL DEFAULT 0 CHECK (talk_seconds >= 0),
            ring_seconds integer NOT NULL DEFAULT 0 CHECK (ring_seconds >= 0),
            match_kind text NOT NULL CHECK (match_kind IN ('exact', 'shared', 'late', 'repeat', 'static', 'unmatched')),
            match_confidence double precision NOT NULL CHECK (match_confidence BETWEEN 0 AND 1),
            candidate_count integer NOT NULL CHECK (candidate_count >= 0),
            match_explanation jsonb NOT NULL,
            visitor_id text,
            session_id text,
            user_agent text,
            first_touch jsonb CHECK (first_touch IS NULL OR jsonb_typeof(first_touch) = 'object'),
            last_touch jsonb CHECK (last_touch IS NULL OR jsonb_typeof(last_touch) = 'object'),
            journey jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(journey) = 'array'),
            dealer_id text,
            is_lead boolean NOT NULL,
            junk_reason text,
            repeat_of text,
            updated_at timestamptz NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX lead_by_started ON \(s).lead (started_at);
        CREATE INDEX lead_by_visitor ON \(s).lead (visitor_id);
        COMMENT ON TABLE \(s).lead IS 'One row per call, written by calltrackd (upsert by call_id, newest revision wins). NOTIFY \(channel) carries the call_id of every change.';

        CREATE TABLE \(s).crm_sync (
            lead_id text PRIMARY KEY REFERENCES \(s).lead (call_id) ON DELETE CASCADE,
            state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'synced', 'failed')),
            attempts integer NOT NULL DEFAULT 0,
            external_id text,
            last_error text,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX crm_sync_open ON \(s).crm_sync (updated_at) WHERE state <> 'synced';
        COMMENT ON TABLE \(s).crm_sync IS 'CRM connectors mark progress here; calltrackd sets a lead back to pending when the lead changes.';

        -- One row per touch of a lead's journey, with its position; the base of the models below.
        CREATE VIEW \(s).lead_touch AS
        SELECT l.call_id, l.site_id, l.started_at AS call_at, l.is_lead, l.dealer_id,
               t.position::integer AS position, count(*) OVER (PARTITION BY l.call_id)::integer AS touches,
               t.touch ->> 'session_id' AS session_id,
               CASE WHEN jsonb_typeof(t.touch -> 'at') = 'number' THEN to_timestamp((t.touch ->> 'at')::double precision) END AS touch_at,
               t.touch ->> 'source' AS source, t.touch ->> 'medium' AS medium,
               t.touch ->> 'campaign' AS campaign, t.touch ->> 'channel' AS channel
        FROM \(s).lead l CROSS JOIN LATERAL jsonb_array_elements(l.journey) WITH ORDINALITY AS t(touch, position);

        \(touchView("attribution_first_touch", column: "first_touch"))

        \(touchView("attribution_last_touch", column: "last_touch"))

        -- Equal credit to every touch.
        CREATE VIEW \(s).attribution_linear AS
        SELECT t.*, 1.0::double precision / t.touches AS credit FROM \(s).lead_touch t;

        -- 40% to the first and to the last touch, 20% shared by those between (U-shaped).
        CREATE VIEW \(s).attribution_position_based AS
        SELECT t.*, (CASE
            WHEN t.touches = 1 THEN 1.0
            WHEN t.touches = 2 THEN 0.5
            WHEN t.position = 1 OR t.position = t.touches THEN 0.4
            ELSE 0.2 / (t.touches - 2) END)::double precision AS credit
        FROM \(s).lead_touch t;

        -- Credit halves for every 7 days a touch lies before the call (touches without a time weigh as the call).
        CREATE VIEW \(s).attribution_time_decay AS
        SELECT w.call_id, w.site_id, w.call_at, w.is_lead, w.dealer_id, w.position, w.touches, w.session_id,
               w.touch_at, w.source, w.medium, w.campaign, w.channel,
               (w.weight / sum(w.weight) OVER (PARTITION BY w.call_id))::double precision AS credit
        FROM (
            SELECT t.*, power(0.5, greatest(0, extract(epoch FROM t.call_at - coalesce(t.touch_at, t.call_at))) / (7 * 86400.0)) AS weight
            FROM \(s).lead_touch t
        ) w;
        """
    }

    /// A single-touch model: the whole credit to the touch in `column`.
    private func touchView(_ view: String, column: String) -> String {
        """
        CREATE VIEW "\(name)".\(view) AS
        SELECT l.call_id, l.site_id, l.started_at AS call_at, l.is_lead, l.dealer_id,
               l.\(column) ->> 'session_id' AS session_id, l.\(column) ->> 'source' AS source,
               l.\(column) ->> 'medium' AS medium, l.\(column) ->> 'campaign' AS campaign,
               l.\(column) ->> 'channel' AS channel, 1.0::double precision AS credit
        FROM "\(name)".lead l WHERE l.\(column) IS NOT NULL;
        """
    }
}
