extension PostgresSchema {
    /// Version 7: money per source and dealer.
    ///
    /// - `ad_cost`: what the ad cabinets reported spending per day and campaign, copied by calltrackd from its
    ///   imports (`POST /v1/admin/costs`); source, medium and campaign in lower case, as touches are matched to them.
    /// - `attribution`: every lead's credit per touch under every model (`model` column); a lead without a journey
    ///   (a static number, an unmatched call) gives its one touch the whole credit in every model.
    /// - `roi_campaign_day` and `roi_dealer_day`: per model and day (UTC) of the calls, the credited calls, leads, won
    ///   deals and revenue (won amounts, shared by the credit), beside the spend; a dealer's spend is its share of
    ///   each campaign's day by the calls that campaign brought it; spend that brought no call is `unattributed`.
    ///   `calltrackd report roi` sums the same figures over a span of days.
    var moneyV7: String {
        let s = "\"\(name)\""
        let key = "lower(coalesce(a.source, '')) AS source, lower(coalesce(a.medium, '')) AS medium, lower(coalesce(a.campaign, '')) AS campaign"
        let columns = "call_id, site_id, call_at, is_lead, dealer_id, source, medium, campaign, credit"
        return """
        CREATE TABLE \(s).ad_cost (
            day date NOT NULL,
            source text NOT NULL,
            medium text NOT NULL,
            campaign text NOT NULL,
            currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
            cost numeric(16, 2) NOT NULL CHECK (cost >= 0),
            imported_at timestamptz NOT NULL,
            PRIMARY KEY (day, source, medium, campaign)
        );
        COMMENT ON TABLE \(s).ad_cost IS 'Ad spend per day and campaign, as imported into calltrackd (POST /v1/admin/costs); written by calltrackd.';

        CREATE VIEW \(s).attribution AS
        SELECT 'first_touch'::text AS model, \(columns) FROM \(s).attribution_first_touch
        UNION ALL SELECT 'last_touch', \(columns) FROM \(s).attribution_last_touch
        UNION ALL SELECT 'linear', \(columns) FROM \(s).attribution_linear
        UNION ALL SELECT 'position_based', \(columns) FROM \(s).attribution_position_based
        UNION ALL SELECT 'time_decay', \(columns) FROM \(s).attribution_time_decay
        UNION ALL SELECT m.model, l.call_id, l.site_id, l.started_at, l.is_lead, l.dealer_id, l.first_touch ->> 'source',
                         l.first_touch ->> 'medium', l.first_touch ->> 'campaign', 1.0::double precision
                  FROM \(s).lead l CROSS JOIN (VALUES ('linear'), ('position_based'), ('time_decay')) AS m(model)
                  WHERE jsonb_array_length(l.journey) = 0 AND l.first_touch IS NOT NULL;
        COMMENT ON VIEW \(s).attribution IS 'Every lead''s credit per touch under every model (first_touch, last_touch, linear, position_based, time_decay); credits of one lead and model sum to 1.';

        CREATE VIEW \(s).roi_campaign_day AS
        WITH credited AS (
            SELECT a.model, (a.call_at AT TIME ZONE 'UTC')::date AS day, \(key),
                   sum(a.credit) AS calls,
                   coalesce(sum(a.credit) FILTER (WHERE a.is_lead), 0) AS leads,
                   coalesce(sum(a.credit) FILTER (WHERE w.call_id IS NOT NULL), 0) AS won,
                   coalesce(sum(a.credit::numeric * w.amount), 0) AS revenue,
                   string_agg(DISTINCT w.currency, ',') AS revenue_currency
            FROM \(s).attribution a
            LEFT JOIN (SELECT call_id, amount, currency FROM \(s).lead_outcome WHERE stage = 'won') w ON w.call_id = a.call_id
            GROUP BY 1, 2, 3, 4, 5),
        spent AS (
            SELECT m.model, c.day, c.source, c.medium, c.campaign, sum(c.cost) AS cost, string_agg(DISTINCT c.currency, ',') AS cost_currency
            FROM \(s).ad_cost c
            CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('linear'), ('position_based'), ('time_decay')) AS m(model)
            GROUP BY 1, 2, 3, 4, 5)
        SELECT coalesce(k.model, p.model) AS model, coalesce(k.day, p.day) AS day, coalesce(k.source, p.source) AS source,
               coalesce(k.medium, p.medium) AS medium, coalesce(k.campaign, p.campaign) AS campaign,
               coalesce(k.calls, 0) AS calls, coalesce(k.leads, 0) AS leads, coalesce(k.won, 0) AS won,
               coalesce(k.revenue, 0) AS revenue, k.revenue_currency, coalesce(p.cost, 0) AS cost, p.cost_currency
        FROM credited k FULL JOIN spent p
          ON (k.model, k.day, k.source, k.medium, k.campaign) = (p.model, p.day, p.source, p.medium, p.campaign);
        COMMENT ON VIEW \(s).roi_campaign_day IS 'Per attribution model, day (UTC) of the calls and campaign: credited calls, leads, won deals, revenue (won amounts shared by credit) and spend. ROMI over a span: (sum(revenue) - sum(cost)) / sum(cost) WHERE model = ''linear'' AND day BETWEEN …';

        CREATE VIEW \(s).roi_dealer_day AS
        WITH credited AS (
            SELECT a.model, (a.call_at AT TIME ZONE 'UTC')::date AS day, \(key), coalesce(a.dealer_id, '(no dealer)') AS dealer_id,
                   sum(a.credit) AS calls,
                   coalesce(sum(a.credit) FILTER (WHERE a.is_lead), 0) AS leads,
                   coalesce(sum(a.credit) FILTER (WHERE w.call_id IS NOT NULL), 0) AS won,
                   coalesce(sum(a.credit::numeric * w.amount), 0) AS revenue
            FROM \(s).attribution a
            LEFT JOIN (SELECT call_id, amount FROM \(s).lead_outcome WHERE stage = 'won') w ON w.call_id = a.call_id
            GROUP BY 1, 2, 3, 4, 5, 6),
        spent AS (
            SELECT day, source, medium, campaign, sum(cost) AS cost FROM \(s).ad_cost GROUP BY 1, 2, 3, 4),
        shared AS (
            SELECT k.*, coalesce(p.cost, 0) * (k.calls / sum(k.calls) OVER (PARTITION BY k.model, k.day, k.source, k.medium, k.campaign))::numeric AS cost
            FROM credited k LEFT JOIN spent p ON (p.day, p.source, p.medium, p.campaign) = (k.day, k.source, k.medium, k.campaign))
        SELECT model, day, dealer_id, sum(calls) AS calls, sum(leads) AS leads, sum(won) AS won, sum(revenue) AS revenue, sum(cost) AS cost
        FROM shared GROUP BY 1, 2, 3
        UNION ALL
        SELECT m.model, p.day, 'unattributed', 0, 0, 0, 0, sum(p.cost)
        FROM spent p CROSS JOIN (VALUES ('first_touch'), ('last_touch'), ('linear'), ('position_based'), ('time_decay')) AS m(model)
        WHERE NOT EXISTS (SELECT 1 FROM credited k WHERE (k.model, k.day, k.source, k.medium, k.campaign) = (m.model, p.day, p.source, p.medium, p.campaign))
        GROUP BY 1, 2;
        COMMENT ON VIEW \(s).roi_dealer_day IS 'Per attribution model, day (UTC) and dealer: the calls, leads, won deals and revenue of its leads, and its share of the spend (each campaign''s day shared by the calls it brought each dealer); spend that brought no call is unattributed.';
        """
    }
}
