extension PostgresSchema {
    /// Version 5: dealer routing. A lead's dealer is decided per call; `dealer_rule` says how (sticky, caller,
    /// area, country, any_region, none, site) and `dealer_reason` why, as the decision said it. Rows written before
    /// keep NULL in both: their dealer was the site's fixed one. The view `dealer_day` counts, per dealer and per
    /// day (UTC), the calls its leads record: what a manufacturer compares dealers by.
    var dealerRoutingV5: String {
        let s = "\"\(name)\""
        return """
        ALTER TABLE \(s).lead ADD COLUMN dealer_rule text
            CHECK (dealer_rule IS NULL OR dealer_rule IN ('sticky', 'caller', 'area', 'country', 'any_region', 'none', 'site'));
        ALTER TABLE \(s).lead ADD COLUMN dealer_reason text;
        COMMENT ON COLUMN \(s).lead.dealer_id IS 'the dealer the call went to: the routing decision at call start, or the failover dealer that answered';
        COMMENT ON COLUMN \(s).lead.dealer_rule IS 'how the dealer was found: sticky (handled this person before), caller (listed), area, country, any_region, none (nobody available: default route), site (the site''s fixed dealer)';
        COMMENT ON COLUMN \(s).lead.dealer_reason IS 'why, as the routing decision said it, e.g. region +7 495 → moscow-north, priority 1, weight 3/5, open, 2/4 lines busy';
        CREATE INDEX lead_by_dealer ON \(s).lead (dealer_id, started_at) WHERE dealer_id IS NOT NULL;
        CREATE VIEW \(s).dealer_day AS
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
               count(*) FILTER (WHERE l.junk_reason IS NOT NULL) AS junk
        FROM \(s).lead l
        WHERE l.dealer_id IS NOT NULL
        GROUP BY l.dealer_id, (l.started_at AT TIME ZONE 'UTC')::date;
        COMMENT ON VIEW \(s).dealer_day IS 'Per dealer per day (UTC) from the leads: calls offered, answered, missed (rang, nobody answered), abandoned, busy, time to answer p50/p90 (seconds of ringing), talk time, leads and junk.';
        """
    }
}
