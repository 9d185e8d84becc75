extension PostgresSchema {
    /// Version 6: the loop back from the CRM, and callbacks.
    ///
    /// - `lead.outcomes`: what became of the lead in the CRM, one JSON object per stage
    ///   (`{"stage":"won","amount":"125000.00","currency":"RUB","crm_deal_id":"D-17","at":1765123200,"reported_by":"api"}`,
    ///   `at` in epoch seconds like the touches), and `deal_stage`, the stage now; the view `lead_outcome` has one row
    ///   per outcome with the amount as `numeric`.
    /// - `outcome_report`: where a connector that writes to PostgreSQL instead of calling the admin API reports
    ///   outcomes; calltrackd takes each row (`taken_at`, `result`) and the lead comes back with it in `outcomes`.
    /// - `lead.called_back_at`: when the dealer called an unanswered caller back (an outbound call from its targets
    ///   seen on AMI). `setting` holds the callback window calltrackd runs with, so `dealer_day` counts the missed
    ///   calls not called back in time as `calltrackd dealers` does.
    var outcomesV6: String {
        let s = "\"\(name)\""
        return """
        ALTER TABLE \(s).lead ADD COLUMN called_back_at timestamptz;
        ALTER TABLE \(s).lead ADD COLUMN deal_stage text CHECK (deal_stage IS NULL OR deal_stage IN ('qualified', 'won', 'lost'));
        ALTER TABLE \(s).lead ADD COLUMN outcomes jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(outcomes) = 'array');
        COMMENT ON COLUMN \(s).lead.called_back_at IS 'when the dealer called this unanswered caller back (an outbound call from its dial targets seen on AMI)';
        COMMENT ON COLUMN \(s).lead.deal_stage IS 'the CRM''s stage now: the latest of won and lost, else qualified; NULL while the CRM reported nothing';
        COMMENT ON COLUMN \(s).lead.outcomes IS 'what the CRM reported, one object per stage: stage, amount (decimal text), currency, crm_deal_id, at (epoch seconds), reported_by';
        CREATE INDEX lead_by_deal_stage ON \(s).lead (deal_stage, started_at) WHERE deal_stage IS NOT NULL;

        CREATE VIEW \(s).lead_outcome AS
        SELECT l.call_id, l.site_id, l.dealer_id, l.started_at AS call_at, l.is_lead,
               o ->> 'stage' AS stage, (o ->> 'amount')::numeric(16, 2) AS amount, o ->> 'currency' AS currency,
               o ->> 'crm_deal_id' AS crm_deal_id, to_timestamp((o ->> 'at')::double precision) AS occurred_at,
               o ->> 'reported_by' AS reported_by
        FROM \(s).lead l CROSS JOIN LATERAL jsonb_array_elements(l.outcomes) AS o;
        COMMENT ON VIEW \(s).lead_outcome IS 'One row per outcome the CRM reported of a lead (qualified, won, lost), with the amount as numeric.';

        CREATE TABLE \(s).outcome_report (
            id bigserial PRIMARY KEY,
            call_id text NOT NULL,
            stage text NOT NULL CHECK (stage IN ('qualified', 'won', 'lost')),
            amount numeric(16, 2) CHECK (amount IS NULL OR amount >= 0),
            currency text CHECK (currency IS NULL OR currency ~ '^[A-Z]{3}$'),
            crm_deal_id text CHECK (crm_deal_id IS NULL OR length(crm_deal_id) BETWEEN 1 AND 200),
            occurred_at timestamptz NOT NULL DEFAULT now(),
            reported_at timestamptz NOT NULL DEFAULT now(),
            taken_at timestamptz,
            result text,
            CHECK ((amount IS NULL) = (currency IS NULL))
        );
        CREATE INDEX outcome_report_waiting ON \(s).outcome_report (id) WHERE taken_at IS NULL;
        COMMENT ON TABLE \(s).outcome_report IS 'A connector INSERTs (call_id, stage, amount, currency, crm_deal_id, occurred_at); calltrackd takes each row within seconds, sets taken_at and result (recorded, unchanged, no_lead), and the lead''s outcomes show it. One outcome per lead and stage: a report sent twice counts once.';

        CREATE TABLE \(s).setting (
            key text PRIMARY KEY,
            value text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now()
        );
        COMMENT ON TABLE \(s).setting IS 'Settings calltrackd runs with that views read (callback_window_seconds); written by calltrackd at start.';
        INSERT INTO \(s).setting (key, value) VALUES ('callback_window_seconds', '3600');

        DROP VIEW \(s).dealer_day;
        CREATE VIEW \(s).dealer_day AS
        WITH w AS (SELECT make_interval(secs => coalesce((SELECT value::double precision FROM \(s).setting WHERE key = 'callback_window_seconds'), 3600)) AS window)
        SELECT l.dealer_id,
               (l.started_at AT TIME ZONE 'UTC')::date AS day,
               count(*) AS offered,
               count(*) FILTER (WHERE l.disposition = 'answered') AS answered,
               count(*) FILTER (WHERE l.disposition = 'no_answer') AS missed,
               count(*) FILTER (WHERE l.disposition = 'abandoned') AS abandoned,
               count(*) FILTER (WHERE l.disposition = 'busy') AS busy,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY l.ring_seconds) FILTER (WHERE l.disposition = 'answered') AS answer_seconds_p50,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY l.ring_seconds) FILTER (WHERE l.disposition = 'answered') AS answer_seconds_p90,
               coalesce(sum(l.talk_seconds), 0) AS talk_seconds,
               count(*) FILTER (WHERE l.is_lead) AS leads,
               count(*) FILTER (WHERE l.junk_reason IS NOT NULL) AS junk,
               count(*) FILTER (WHERE u.unanswered AND l.called_back_at <= l.ended_at + w.window) AS called_back,
               count(*) FILTER (WHERE u.unanswered AND (l.called_back_at IS NULL OR l.called_back_at > l.ended_at + w.window)
                                AND now() >= l.ended_at + w.window) AS missed_not_called_back,
               count(*) FILTER (WHERE u.unanswered AND l.called_back_at IS NULL AND now() < l.ended_at + w.window) AS awaiting_callback,
               count(*) FILTER (WHERE l.deal_stage = 'won') AS won
        FROM \(s).lead l CROSS JOIN w
        CROSS JOIN LATERAL (SELECT l.disposition IN ('no_answer', 'busy', 'abandoned') AND l.ended_at IS NOT NULL
                                   AND l.caller LIKE '+%' AS unanswered) u
        WHERE l.dealer_id IS NOT NULL
        GROUP BY l.dealer_id, (l.started_at AT TIME ZONE 'UTC')::date;
        COMMENT ON VIEW \(s).dealer_day IS 'Per dealer per day (UTC) from the leads: calls offered, answered, missed (rang, nobody answered), abandoned, busy, time to answer p50/p90 (seconds of ringing), talk time, leads and junk; of the unanswered calls from a number (missed, busy, abandoned): called back within the callback window (setting callback_window_seconds), not called back in time, still awaiting a callback; won deals.';
        """
    }
}
