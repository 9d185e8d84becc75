/// What redaction and erasure leave of a lead: the call's shape (times, disposition, talk and ring seconds), the
/// match kind and confidence, the marketing source of each touch (channel, UTM tags), the dealer and the verdict.
/// Each returns the lead as the next revision (`revision + 1`, `changedAt = now`) when something was removed, so
/// the change travels to every destination like any lead change; nil when there was nothing of that kind in it.
extension Lead {
    /// The lead without the data of `kinds` (see `PersonalData` for what each kind covers).
    public func redacting(_ kinds: PersonalDataSet, at now: Timestamp) -> Lead? {
        var lead = self
        if kinds.contains(.callers) {
            lead.caller = nil
            lead.callerRaw = ""
            lead.callerName = nil
        }
        if kinds.contains(.userAgents) { lead.userAgent = nil }
        if kinds.contains(.urls) || kinds.contains(.sessions) {
            lead.firstTouch = lead.firstTouch.map { $0.redacting(kinds) }
            lead.lastTouch = lead.lastTouch.map { $0.redacting(kinds) }
            lead.journey = lead.journey.map { $0.redacting(kinds) }
        }
        if kinds.contains(.sessions) {
            lead.visitorID = nil
            lead.match.visitorID = nil
            lead.match.candidates = lead.match.candidates.map { $0.withoutVisitor() }
        }
        return lead.nextRevision(of: self, at: now)
    }

    /// The lead without anything of `person`: when the call is theirs (their visitor, or their phone calling), its
    /// caller, browser, visitor and the personal parts of its touches; when they were only a candidate of someone
    /// else's call, their session and visitor in the candidate list.
    public func erasing(_ person: ErasedPerson, at now: Timestamp) -> Lead? {
        var lead = self
        if person.owns(self) {
            lead.caller = nil
            lead.callerRaw = ""
            lead.callerName = nil
            lead.userAgent = nil
            lead.visitorID = nil
        }
        if let visitor = lead.match.visitorID, person.visitors.contains(visitor) { lead.match.visitorID = nil }
        if let session = lead.match.sessionID, person.sessions.contains(session) { lead.match.sessionID = nil }
        lead.match.candidates = lead.match.candidates.map { candidate in
            person.visitors.contains(candidate.visitorID) || person.sessions.contains(candidate.sessionID)
                ? candidate.withoutVisitor().withoutSession() : candidate
        }
        func erase(_ touch: Touch) -> Touch {
            guard let session = touch.sessionID, person.sessions.contains(session) else { return touch }
            var touch = touch.redacting(.all)
            touch.sessionID = nil
            return touch
        }
        lead.firstTouch = lead.firstTouch.map(erase)
        lead.lastTouch = lead.lastTouch.map(erase)
        lead.journey = lead.journey.map(erase)
        return lead.nextRevision(of: self, at: now)
    }

    /// This lead as the revision after `original`, or nil when it is the same.
    private func nextRevision(of original: Lead, at now: Timestamp) -> Lead? {
        guard self != original else { return nil }
        var next = self
        next.revision = original.revision + 1
        next.changedAt = max(now, original.changedAt)
        return next
    }
}

extension Touch {
    /// The touch without landing URL and referrer (`urls`) and click ids (`sessions`); its source stays.
    func redacting(_ kinds: PersonalDataSet) -> Touch {
        var touch = self
        if kinds.contains(.urls) {
            touch.referrer = nil
            touch.landingURL = nil
        }
        if kinds.contains(.sessions) {
            touch.gclid = nil
            touch.yclid = nil
        }
        return touch
    }
}

extension MatchCandidate {
    /// The candidate with its visitor emptied; the lease interval stays (it explains the match).
    func withoutVisitor() -> MatchCandidate {
        var candidate = self
        candidate.visitorID = ""
        return candidate
    }

    func withoutSession() -> MatchCandidate {
        var candidate = self
        candidate.sessionID = ""
        return candidate
    }
}
