/// When linking an identifier makes two visitors one person (SPEC §Identity over a long sales cycle), and which
/// survives. Pure: the store reads who the identifier and the visitor are now and applies what this decides.
public enum VisitorMergeRule {
    /// The merge caused by linking `identifier` to `visitor`, when the identifier already belongs to another
    /// person: the person it named first (`ownerSurvivor`) survives and `visitorSurvivor` is merged into it. Nil
    /// when the identifier is new, already the visitor's, or both are already one person.
    public static func merge(
        linking identifier: VisitorIdentifier, to visitor: VisitorID, owner: VisitorID,
        ownerSurvivor: VisitorID, visitorSurvivor: VisitorID, by source: String, call: String?, at now: Timestamp
    ) -> VisitorMerge? {
        guard owner != visitor, ownerSurvivor != visitorSurvivor else { return nil }
        return VisitorMerge(merged: visitorSurvivor, survivor: ownerSurvivor, reason: reason(linking: identifier.kind, by: source),
                            via: identifier.description, callID: call, at: now)
    }

    /// Why a link merged two visitors, in words for the merge record.
    public static func reason(linking kind: VisitorIdentifier.Kind, by source: String) -> String {
        switch kind {
        case .phone: "\(source) carried a phone already bound to the survivor"
        case .crmContact: "\(source) linked a CRM contact already linked to the survivor"
        case .gclid, .yclid, .fbclid, .msclkid: "\(source) carried an ad click id the survivor arrived with"
        case .gaClientID, .ymUID: "\(source) carried an analytics client id already seen with the survivor"
        }
    }
}
