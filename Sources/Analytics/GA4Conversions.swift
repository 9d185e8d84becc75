import CallTrackCore

/// Which conversions a lead has earned for a GA4 property, as it stands now. The destination sends each at most
/// once (its `ConversionLog` remembers), so a lead delivered at every revision sends its call event once, and its
/// purchase when the CRM reports the deal won, however late.
///
/// ```
/// ringing, exact                          → []            (junk rules decide at the hangup: wait)
/// ended, exact, a lead                    → [.call]
/// ended, shared (kinds: exact late repeat) → []
/// ended, junk (short talk), even if won  → []
/// ended, exact, won 12 500.00 RUB         → [.call, .won]
/// won, then lost (the latest)             → [.call]       (only a deal won now sends its purchase)
/// ```
public enum GA4Conversions {
    public static func earned(by lead: Lead, for property: GA4Property) -> [ConversionKind] {
        guard property.sites.contains(lead.siteID), property.matchKinds.contains(lead.match.kind) else { return [] }
        var kinds: [ConversionKind] = []
        // A qualified call: a lead (not junk, not a repeat of an open lead) whose call has ended, so the junk
        // rules that need the talk time have decided.
        if lead.isLead, lead.endedAt != nil { kinds.append(.call) }
        // A deal won now (the latest of won and lost), on a call that is not junk; a repeat call's deal counts, as
        // the CRM reported it on this call.
        if lead.junkReason == nil, lead.dealStage == .won, lead.wonDeal != nil { kinds.append(.won) }
        return kinds
    }
}
