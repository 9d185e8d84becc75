/// Where and how calltrackd serves FastAGI (`agi.*` in the config).
public struct FastAGIConfiguration: Sendable, Equatable {
    public var host = "127.0.0.1"
    /// 4573 is FastAGI's registered port; 0 picks a free one (tests).
    public var port = 4573
    /// A decision not made within this gets the site's default route, so a caller never waits on us.
    public var deadline: Duration = .milliseconds(200)
    /// A peer that has not finished its `agi_*` block within this is cut off.
    public var headTimeout: Duration = .seconds(5)
    /// Asterisk answers a SET VARIABLE at once; a peer silent this long is cut off.
    public var replyTimeout: Duration = .seconds(5)
    public var maxLineBytes = 4096
    public var maxHeadLines = 256

    public init() {}
}
