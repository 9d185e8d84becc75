extension PostgresSchema {
    /// Version 4: a call that ended while calltrackd was disconnected from Asterisk (closed by the resync after
    /// the reconnect, never seen answered) has the disposition `unknown`, so nobody reads it as a missed call.
    /// The new check admits every value the old one did: existing rows stay valid.
    var unknownDispositionV4: String {
        let s = "\"\(name)\""
        return """
        ALTER TABLE \(s).lead DROP CONSTRAINT lead_disposition_check;
        ALTER TABLE \(s).lead ADD CONSTRAINT lead_disposition_check
            CHECK (disposition IN ('ringing', 'answered', 'no_answer', 'busy', 'failed', 'abandoned', 'unknown'));
        COMMENT ON COLUMN \(s).lead.disposition IS 'ringing, answered, no_answer, busy, failed, abandoned (left a queue unanswered), or unknown (ended while calltrackd was disconnected from Asterisk: nobody saw whether it was answered)';
        """
    }
}
