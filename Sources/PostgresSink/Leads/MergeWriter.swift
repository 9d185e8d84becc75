import CallTrackCore

/// Writes visitor merges into `calltrack.visitor_merge`, in outbox order. Idempotent: a replayed merge
/// changes nothing, and re-pointing the survivor's own merged ids keeps one level as calltrackd does.
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
                INSERT INTO \(table) (merged_id, survivor_id, reason, via, call_id, merged_at) VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (merged_id) DO NOTHING
                """, values, prepared: true)
        }
    }
}
