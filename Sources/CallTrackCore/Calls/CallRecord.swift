/// One inbound call as calltrackd keeps it: what Asterisk said, normalised, independent of AMI.
///
/// Written when the call starts ringing and rewritten when it is answered and when it ends;
/// `revision` grows with each change, so a replayed older state never overwrites a newer one.
public struct CallRecord: Hashable, Sendable, Codable {
    public var id: String
    public var revision: Int
    /// The tracking number dialled; nil when Asterisk's value was not a phone number (kept in `dialled`).
    public var trackingNumber: PhoneNumber?
    public var dialled: String
    /// The caller in E.164, or nil when withheld or not a number (then `callerRaw` says what Asterisk sent).
    public var caller: PhoneNumber?
    public var callerRaw: String
    public var callerWithheld: Bool
    public var callerName: String?
    public var startedAt: Timestamp
    public var answeredAt: Timestamp?
    public var endedAt: Timestamp?
    public var answeredBy: String?
    public var queue: String?
    /// `answered`, `no_answer`, `busy`, `failed`, `abandoned`; nil while in progress.
    public var disposition: String?
    public var hangupCause: Int?
    public var ringSeconds: Double?
    public var talkSeconds: Double?
    public var recording: String?
    /// Learned or closed by a resync after a reconnect: times are estimates.
    public var resumed: Bool
    public var endedWhileDisconnected: Bool

    public init(
        id: String, revision: Int, trackingNumber: PhoneNumber?, dialled: String, caller: PhoneNumber?, callerRaw: String,
        callerWithheld: Bool, callerName: String? = nil, startedAt: Timestamp, answeredAt: Timestamp? = nil,
        endedAt: Timestamp? = nil, answeredBy: String? = nil, queue: String? = nil, disposition: String? = nil,
        hangupCause: Int? = nil, ringSeconds: Double? = nil, talkSeconds: Double? = nil, recording: String? = nil,
        resumed: Bool = false, endedWhileDisconnected: Bool = false
    ) {
        self.id = id
        self.revision = revision
        self.trackingNumber = trackingNumber
        self.dialled = dialled
        self.caller = caller
        self.callerRaw = callerRaw
        self.callerWithheld = callerWithheld
        self.callerName = callerName
        self.startedAt = startedAt
        self.answeredAt = answeredAt
        self.endedAt = endedAt
        self.answeredBy = answeredBy
        self.queue = queue
        self.disposition = disposition
        self.hangupCause = hangupCause
        self.ringSeconds = ringSeconds
        self.talkSeconds = talkSeconds
        self.recording = recording
        self.resumed = resumed
        self.endedWhileDisconnected = endedWhileDisconnected
    }

    /// Caller names and other free text from the wire are cut here, so one bad call cannot bloat the store.
    public static let maxTextLength = 256
}
