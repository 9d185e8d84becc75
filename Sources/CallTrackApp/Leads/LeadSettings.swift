import CallTrackCore

/// How calls become leads (config `leads.*`).
public struct LeadSettings: Sendable {
    /// A call within this long of an open lead of the same visitor or caller repeats it instead of opening a new one.
    public var uniquenessWindow: Duration = .seconds(30 * 86_400)
    /// `global` or `site`: whether an open lead on another site counts.
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
        case global, site
    }

    public init() {}
}
