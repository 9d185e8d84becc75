import CallTrackCore

/// Writes visitor merges into `calltrack.visitor_merge`, in outbox order. Idempotent: a replayed merge
/// changes nothing but its `via` (which retention redacts: `phone:+7…` becomes `phone:`), and re-pointing the
/// survivor's own merged ids keeps one level as calltrackd does. An erasure deletes the person's merges.
struct MergeWriter: Sendable {
    let schema: PostgresSchema

    func write(_ merges: [VisitorMerge], in session: PostgresSession) throws(PostgresError) {
        guard !merges.isEmpty else { return }
        let table = schema.qualified("visitor_merge")
        for merge in merges {
            let values = PostgresParameters([merge.merged, merge.survivor, LeadText.repaired(Array(merge.reason.utf8)),
                          LeadText.repaired(Array(merge.via.utf8)), merge.callID, merge.at.postgresText])
            try session.query("""
                WITH repointed AS (UPDATE \(table) SET survivor_id = $2 WHERE survivor_id = $1 AND merged_id <> $2)
                INSERT INTO \(table) AS m (merged_id, survivor_id, reason, via, call_id, merged_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (merged_id) DO UPDATE SET via = EXCLUDED.via WHERE m.via <> EXCLUDED.via
                """, values, prepared: true)
        }
    }

    /// Deletes every merge of the person each erasure names (by the visitor id it keeps): the survivor the id is
    /// now, and every id merged into it. Idempotent.
    func forget(_ erasures: [ErasureRecord], in session: PostgresSession) throws(PostgresError) {
        let table = schema.qualified("visitor_merge")
        for case let visitor? in erasures.map(\.visitorID) {
            try session.query("""
                WITH person AS (SELECT coalesce((SELECT survivor_id FROM \(table) WHERE merged_id = $1), $1) AS survivor)
                DELETE FROM \(table) m USING person WHERE m.survivor_id = person.survivor OR m.merged_id = person.survivor OR m.merged_id = $1
                """, PostgresParameters([visitor]), prepared: true)
        }
    }
}
