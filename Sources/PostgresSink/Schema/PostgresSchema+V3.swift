extension PostgresSchema {
    /// Version 3: visitor merges, so the CRM sees one person where calltrackd does (SPEC §Identity). A lead
    /// keeps the visitor id it was written with; `lead_person` gives every lead the person it belongs to now.
    var visitorMergesV3: String {
        let s = "\"\(name)\""
        return """
        CREATE TABLE \(s).visitor_merge (
            merged_id text PRIMARY KEY,
            survivor_id text NOT NULL,          -- never itself merged: chains are re-pointed, one level
            reason text NOT NULL,
            via text NOT NULL,                  -- the identifier that linked them, e.g. ga:1234567890.1700000000
            call_id text,
            merged_at timestamptz NOT NULL,
            written_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX visitor_merge_by_survivor ON \(s).visitor_merge (survivor_id);
        COMMENT ON TABLE \(s).visitor_merge IS 'Visitor ids that turned out to be one person (a second device, cleared cookies), written by calltrackd in order with the leads.';

        CREATE VIEW \(s).lead_person AS
        SELECT l.*, coalesce(m.survivor_id, l.visitor_id) AS person_id
        FROM \(s).lead l LEFT JOIN \(s).visitor_merge m ON m.merged_id = l.visitor_id;
        COMMENT ON VIEW \(s).lead_person IS 'Every lead with the person it belongs to now: all leads of one buyer share person_id.';
        """
    }
}
