/// Who is to be forgotten: a visitor (and with it every device and cookie merged into the same person), or a phone
/// (its calls, and the person it is bound to).
public enum ErasureTarget: Sendable, Hashable {
    case visitor(VisitorID)
    case phone(PhoneNumber)
}

/// One person to be forgotten (`calltrackd forget`, `DELETE /v1/admin/people/{visitor}`): every visitor id they
/// had (all devices and cookies merged into one person), their visits and their phones. Built by the store from
/// the identity graph; the rules here say what of a lead or call is theirs.
public struct ErasedPerson: Hashable, Sendable {
    public var visitors: Set<VisitorID>
    public var sessions: Set<SessionID>
    public var phones: Set<PhoneNumber>

    public init(visitors: Set<VisitorID> = [], sessions: Set<SessionID> = [], phones: Set<PhoneNumber> = []) {
        self.visitors = visitors
        self.sessions = sessions
        self.phones = phones
    }

    /// Whether the call is theirs: made by one of their phones, or matched to one of their visitors or visits.
    public func owns(_ lead: Lead) -> Bool {
        if let caller = lead.caller, phones.contains(caller) { return true }
        if let visitor = lead.visitorID, visitors.contains(visitor) { return true }
        if let visitor = lead.match.visitorID, visitors.contains(visitor) { return true }
        if let session = lead.match.sessionID, sessions.contains(session) { return true }
        return false
    }

    /// Whether a call's caller is theirs: one of their phones, or the caller of a call that is theirs.
    public func ownsCaller(of call: CallRecord, lead: Lead?) -> Bool {
        if let caller = call.caller, phones.contains(caller) { return true }
        return lead.map(owns) ?? false
    }

    /// The strings that name them, for searching stored text: visitor ids, visit ids and phones.
    public var names: Set<String> {
        visitors.union(sessions).union(phones.map(\.e164))
    }
}
