/// What one change of a lead adds to its dealers' statistics, decided from the lead before and after the change:
///
/// - opened with a dealer: that dealer was offered the call;
/// - a failover dealer's leg answered (the lead's dealer changed): the new dealer was offered and the chosen one
///   missed it;
/// - ended: the dealer's outcome (answered with its time to answer and talk time, missed, busy, abandoned), and
///   whether the call stayed a lead or is junk; an unanswered call from a number becomes a `MissedCall` to watch
///   for a callback.
///
/// Every call is counted in the hour it started. A change seen twice is never tallied twice: the store only
/// applies changes past the revision it holds.
public struct DealerTally: Hashable, Sendable {
    public var hours: [DealerHour] = []
    public var missedCall: MissedCall?

    public init(hours: [DealerHour] = [], missedCall: MissedCall? = nil) {
        self.hours = hours
        self.missedCall = missedCall
    }

    public var isEmpty: Bool { hours.isEmpty && missedCall == nil }

    /// The tally of the change from `previous` (nil: the lead opens with this change) to `lead`.
    public static func change(from previous: Lead?, to lead: Lead) -> DealerTally {
        let hour = DealerHour.hour(of: lead.startedAt)
        var counts: [DealerID: DealerHour] = [:]
        func count(_ dealer: DealerID, _ body: (inout DealerHour) -> Void) {
            body(&counts[dealer, default: DealerHour(dealer: dealer, start: hour)])
        }
        if let dealer = lead.dealerID {
            if previous == nil {
                count(dealer) { $0.offered += 1 }
            } else if let before = previous?.dealerID, before != dealer {
                count(dealer) { $0.offered += 1 }
                count(before) { $0.missed += 1 }
            } else if previous?.dealerID == nil {
                count(dealer) { $0.offered += 1 }
            }
        }
        var missedCall: MissedCall?
        if let dealer = lead.dealerID, let ended = lead.endedAt, previous?.endedAt == nil {
            count(dealer) { hour in
                switch lead.disposition {
                case .answered:
                    hour.answered += 1
                    hour.answerSeconds.append(lead.ringSeconds)
                    hour.talkSeconds += lead.talkSeconds
                case .noAnswer: hour.missed += 1
                case .busy: hour.busy += 1
                case .abandoned: hour.abandoned += 1
                case .failed, .unknown, .ringing: break
                }
                if lead.isLead { hour.leads += 1 }
                if lead.junkReason != nil { hour.junk += 1 }
            }
            if [.noAnswer, .busy, .abandoned].contains(lead.disposition), let caller = lead.caller {
                missedCall = MissedCall(callID: lead.callID, dealer: dealer, caller: caller, missedAt: ended)
            }
        }
        return DealerTally(hours: counts.values.filter { !$0.isEmpty }.sorted { $0.dealer < $1.dealer }, missedCall: missedCall)
    }
}
