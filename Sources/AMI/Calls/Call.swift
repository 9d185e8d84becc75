import CallTrackCore

/// One inbound call as Asterisk reported it, grouped by `Linkedid`.
public struct Call: Sendable, Equatable {
    /// The `Linkedid`: the `Uniqueid` of the inbound channel, shared by every leg of the call.
    public var id: String
    /// The inbound channel, e.g. `SIP/trunk-00000006`.
    public var inboundChannel: String
    /// The tracking number dialled, normalised; nil when Asterisk's value is not a phone number.
    public var trackingNumber: PhoneNumber?
    /// The tracking number exactly as Asterisk reported it (`74950000001`, `+74950000001`).
    public var dialled: String
    public var caller: Caller
    /// `CallerIDName`, nil when Asterisk says `<unknown>`. Invalid UTF-8 is replaced, never refused.
    public var callerName: String?
    public var ringStartedAt: Timestamp
    public var answeredAt: Timestamp?
    public var endedAt: Timestamp?
    /// The person or line that took the call (for a queue, the member that `AgentConnect`ed).
    public var answeredBy: Answerer?
    /// Where a transfer after the answer sent the caller.
    public var transferredTo: String?
    /// The queue the caller waited in, if any.
    public var queue: String?
    public var hangupCause: Int?
    public var hangupCauseText: String?
    /// Set when the call ends.
    public var disposition: CallDisposition?
    /// A recording file named by `MIXMONITOR_FILENAME`; the file is referenced, never copied.
    public var recording: String?
    /// Learned from a resync after (re)connecting: the call began before we saw it, times are estimates.
    public var resumed: Bool
    /// Closed by a resync: it ended while the connection was down, so `endedAt` is when we found out.
    public var endedWhileDisconnected: Bool

    /// From the first ring to the answer (or to the end of dialling for an unanswered call).
    public var ringSeconds: Double?
    /// From the answer to the hangup.
    public var talkSeconds: Double? {
        guard let answeredAt, let endedAt else { return nil }
        return max(0, (endedAt - answeredAt).secondsDouble)
    }
}

/// Who called, kept as Asterisk said it when it is not a number.
public enum Caller: Sendable, Hashable, CustomStringConvertible {
    case number(PhoneNumber)
    /// `anonymous`, `<unknown>`, empty, and the other spellings of a hidden number.
    case withheld(String)
    /// Something that is neither a number nor withheld (`101`, a SIP user name).
    case unparsable(String)

    public init(callerIDNum raw: String, defaultCountry: Country) {
        do {
            self = .number(try PhoneNumber.parse(raw, defaultCountry: defaultCountry))
        } catch .withheld, .empty {
            self = .withheld(raw)
        } catch {
            self = .unparsable(raw)
        }
    }

    public var number: PhoneNumber? {
        if case .number(let number) = self { return number }
        return nil
    }

    public var isWithheld: Bool {
        if case .withheld = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .number(let number): number.e164
        case .withheld(let raw): "withheld(\(raw))"
        case .unparsable(let raw): "unparsable(\(raw))"
        }
    }
}

/// How a call ended. A person answered only if `answered`; a DID that answers into a queue is not that.
/// Only `unknown` says nobody saw the end: the others are what Asterisk reported.
public enum CallDisposition: String, Sendable, Hashable, CaseIterable {
    case answered
    case noAnswer = "no_answer"
    case busy
    case failed
    /// The caller left a queue before any member answered.
    case abandoned
    /// Closed by a resync after a reconnect before anyone was seen answering: it ended while nobody watched,
    /// so whether it was answered is not known.
    case unknown
}

/// Who answered: a device, a queue member, or an outside line with the number it dialled.
public struct Answerer: Sendable, Hashable, CustomStringConvertible {
    /// The channel's device without its instance suffix: `SIP/101`, `Local/101@agents`, `SIP/dealer`.
    public var party: String
    public var queue: String?
    /// The queue member interface, e.g. `Local/102@agents/n`.
    public var member: String?
    /// What `Dial` was given, e.g. `dealer/84951234567` for a forward to an outside number.
    public var dialString: String?

    public init(party: String, queue: String? = nil, member: String? = nil, dialString: String? = nil) {
        self.party = party
        self.queue = queue
        self.member = member
        self.dialString = dialString
    }

    public var description: String {
        if let queue { return "queue \(queue), member \(member ?? party)" }
        return party
    }
}

/// What the assembler tells the rest of calltrackd. Each carries the call as known at that moment.
public enum CallEvent: Sendable, Equatable {
    case started(Call)
    case answered(Call)
    case ended(Call)

    public var call: Call {
        switch self {
        case .started(let call), .answered(let call), .ended(let call): call
        }
    }
}
