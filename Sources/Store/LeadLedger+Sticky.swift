import CallTrackCore
import GRDB

/// What of a `lead` row a sticky dealer depends on, and the touch a lead write owes `StickyDealerIndex`.
extension LeadLedger {
    struct StickyFields: Equatable {
        var dealer: DealerID?
        var caller: String?
        var visitor: VisitorID?
        var startedAt: Int64

        init(_ lead: Lead) {
            dealer = lead.dealerID
            caller = lead.caller?.e164
            visitor = lead.visitorID
            startedAt = lead.startedAt.microsecondsSinceEpoch
        }

        /// From a row selecting at least `dealer_id, caller, visitor_id, started_at` by those names.
        init(_ row: GRDB.Row) {
            dealer = row["dealer_id"]
            caller = row["caller"]
            visitor = row["visitor_id"]
            startedAt = row["started_at"]
        }
    }

    /// A lead row is now `lead` (it was `previous`): when a dealer is involved and what answers depend on changed,
    /// the callers and persons of both are named to `sticky`.
    static func touchSticky(_ lead: Lead, replacing previous: StickyFields?, _ sticky: StickyDealerIndex, _ db: Database) {
        touchSticky(StickyFields(lead), replacing: previous, sticky, db)
    }

    static func touchSticky(_ now: StickyFields?, replacing previous: StickyFields?, _ sticky: StickyDealerIndex, _ db: Database) {
        guard now != previous, now?.dealer != nil || previous?.dealer != nil else { return }
        sticky.touch(phones: [now?.caller, previous?.caller].compactMap { $0 },
                     visitors: [now?.visitor, previous?.visitor].compactMap { $0 }, db)
    }
}
