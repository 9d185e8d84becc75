/// How calls become leads (config `leads.*`, SPEC §Leads in PostgreSQL): the uniqueness window and scope that
/// make a call a repeat of an open lead, and the junk rules that mark a call as not a lead without dropping it.
public struct LeadRules: Sendable {
    /// A call within this long of an open lead of the same person or caller repeats it instead of opening a new one.
    public var uniquenessWindow: Duration = .seconds(30 * 86_400)
    /// Which open leads count: any (`global`), the same site's, or the same dealer's.
    public var uniquenessScope: Scope = .global
    /// An answered call shorter than this (seconds of talk) is junk.
    public var minTalkSeconds: Double = 10
    /// Callers whose calls are junk (spam, own staff).
    public var blockList: Set<PhoneNumber> = []
    /// Withheld or anonymous callers are junk (they cannot be called back).
    public var anonymousIsJunk = true
    /// A visitor active this recently is "on the site now" for the recycled-number guard.
    public var onSiteWindow: Duration = .seconds(30 * 60)

    public enum Scope: String, Sendable, CaseIterable {
        case global, site, dealer
    }

    /// The open leads a call may repeat: those of its person or caller that started in [since, before) within the partition.
    public struct RepeatSearch: Hashable, Sendable {
        public var since: Timestamp
        public var before: Timestamp
        public var partition: Partition

        public init(since: Timestamp, before: Timestamp, partition: Partition) {
            self.since = since
            self.before = before
            self.partition = partition
        }
    }

    public enum Partition: Hashable, Sendable {
        case all
        case site(String)
        /// Leads of this dealer; nil is the group of leads no dealer has yet.
        case dealer(String?)
    }

    public init() {}

    /// Where to look for the open lead a call at `t` on `site`, going to `dealer`, repeats.
    public func repeatSearch(at t: Timestamp, site: String, dealer: String?) -> RepeatSearch {
        let partition: Partition = switch uniquenessScope {
        case .global: .all
        case .site: .site(site)
        case .dealer: .dealer(dealer)
        }
        return RepeatSearch(since: t - uniquenessWindow, before: t, partition: partition)
    }

    /// Why a call is not a lead, or nil. Checked in this order: a blocked caller, an anonymous one, a short talk.
    /// Only an answered call can be short: a call still ringing has no talk yet, and a call nobody answered
    /// (no answer, busy, abandoned in a queue, failed, or an unknown outcome) from a real caller is a lead to
    /// call back, junk only by the block list.
    public func junkReason(_ call: CallRecord) -> JunkReason? {
        if let caller = call.caller, blockList.contains(caller) { return .blockedCaller }
        if call.caller == nil && anonymousIsJunk { return call.callerWithheld ? .anonymous : .callerNotANumber }
        if call.disposition == "answered", let talk = call.talkSeconds, talk < minTalkSeconds { return .shortTalk }
        return nil
    }

    /// A call is a lead unless it is junk or repeats an open lead; either way it is kept.
    public func isLead(junkReason: JunkReason?, repeatOf: String?) -> Bool {
        junkReason == nil && repeatOf == nil
    }
}
