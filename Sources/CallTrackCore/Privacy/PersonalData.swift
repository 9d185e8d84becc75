/// The kinds of personal data calltrackd keeps, each with its own retention (SPEC §Privacy). After its period a
/// kind is *redacted*: the value is replaced (emptied), the row stays, so statistics and attribution survive.
///
/// | kind          | where                                                                  | replaced by          |
/// |---------------|------------------------------------------------------------------------|----------------------|
/// | `callers`     | calls and leads: caller number, what Asterisk sent, caller name;        | nothing (NULL / "")  |
/// |               | a merge's `via` when it names a phone                                   | `phone:`             |
/// | `ipAddresses` | sessions: the client's network                                          | NULL                 |
/// | `userAgents`  | sessions and leads: the browser                                         | NULL                 |
/// | `urls`        | sessions and lead touches: landing URL and referrer                     | NULL                 |
/// | `sessions`    | who a visit was: visitor ids (sessions, leases, leads, match candidates), | "" / NULL          |
/// |               | analytics and click ids                                                 |                      |
///
/// UTM tags, channels, times, numbers, match kinds, dealers and verdicts are not personal and stay.
public enum PersonalData: String, CaseIterable, Hashable, Sendable {
    case callers
    case ipAddresses = "ip_addresses"
    case userAgents = "user_agents"
    case urls
    case sessions

    /// The kind's bit in a lead's `redacted` column: which kinds a lead has already had redacted.
    public var bit: Int { 1 << (PersonalData.allCases.firstIndex(of: self)!) }
}

/// A set of personal-data kinds as the bits `PersonalData.bit` gives them.
public struct PersonalDataSet: OptionSet, Hashable, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    public init(_ kinds: some Sequence<PersonalData>) { self.init(rawValue: kinds.reduce(0) { $0 | $1.bit }) }

    public func contains(_ kind: PersonalData) -> Bool { rawValue & kind.bit != 0 }
    public var kinds: [PersonalData] { PersonalData.allCases.filter(contains) }
    public static let all = PersonalDataSet(PersonalData.allCases)
    public static let callers = PersonalDataSet([PersonalData.callers])
    public static let ipAddresses = PersonalDataSet([PersonalData.ipAddresses])
    public static let userAgents = PersonalDataSet([PersonalData.userAgents])
    public static let urls = PersonalDataSet([PersonalData.urls])
    public static let sessions = PersonalDataSet([PersonalData.sessions])
}
