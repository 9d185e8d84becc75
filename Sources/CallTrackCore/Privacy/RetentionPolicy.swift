/// How long each kind of personal data is kept before it is redacted (`privacy.redact_after.*`), and how long a
/// visitor's identifiers are kept after they were last seen (`privacy.retention`). Pure: the time is passed in.
///
/// ```swift
/// let policy = RetentionPolicy()                       // the defaults below
/// policy.cutoff(for: .ipAddresses, at: now)            // now − 30 days: older sessions lose their network
/// policy.due(startedAt: call.startedAt, at: now)       // the kinds a call of that age must have lost
/// ```
public struct RetentionPolicy: Hashable, Sendable {
    /// Redact each kind this long after the call or visit it belongs to began.
    public var redactAfter: [PersonalData: Duration]
    /// A visitor identifier (a phone binding, an analytics or click id, a CRM contact) last seen longer ago than
    /// this is deleted: it links nothing any more.
    public var identifiers: Duration

    public static let day = Duration.seconds(86_400)

    /// The defaults: what a B2B sales cycle needs and no more. Caller numbers and visitors live as long as a deal
    /// may take (2 years, SPEC §Identity); the technical traces of a visit much shorter.
    public static let defaults: [PersonalData: Duration] = [
        .callers: day * 730, .ipAddresses: day * 30, .userAgents: day * 90, .urls: day * 180, .sessions: day * 730,
    ]

    /// The shortest period each kind accepts: visits must outlive the calls that can still match them and the
    /// leads that can still repeat them; the other kinds need a day for the sweep to see them.
    public static let minimum: [PersonalData: Duration] = [
        .callers: day, .ipAddresses: day, .userAgents: day, .urls: day, .sessions: day * 30,
    ]

    public init(redactAfter: [PersonalData: Duration] = Self.defaults, identifiers: Duration = day * 730) {
        self.redactAfter = Self.defaults.merging(redactAfter) { _, configured in configured }
        self.identifiers = identifiers
    }

    /// Data of this kind that began before the cutoff is due for redaction.
    public func cutoff(for kind: PersonalData, at now: Timestamp) -> Timestamp {
        now - (redactAfter[kind] ?? Self.defaults[kind]!)
    }

    /// Every kind's cutoff at `now`.
    public func cutoffs(at now: Timestamp) -> [PersonalData: Timestamp] {
        Dictionary(uniqueKeysWithValues: PersonalData.allCases.map { ($0, cutoff(for: $0, at: now)) })
    }

    /// The kinds that a call or visit begun at `startedAt` must have lost by `now`.
    public func due(startedAt: Timestamp, at now: Timestamp) -> PersonalDataSet {
        PersonalDataSet(PersonalData.allCases.filter { startedAt < cutoff(for: $0, at: now) })
    }
}
