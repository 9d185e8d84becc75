import AMI
import CallTrackCore

/// Everything the AMI client needs; the daemon fills it from its configuration file.
public struct AMIConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var secret: String
    public var auth: AMILogin.Auth
    /// `Events:` sent with the Login: `on`, or a class mask such as `call,agent,cdr`.
    public var events: String
    /// The context inbound trunk calls arrive in (the tracking number is their `Exten` there).
    public var inboundContext: String
    /// A channel variable the dialplan sets to the tracking number; nil reads `Exten`.
    public var trackingVariable: String?
    public var defaultCountry: Country
    public var maxLineBytes: Int
    public var maxMessageBytes: Int
    public var pingInterval: Duration
    /// No `Pong` within this long: the connection is considered dead and is replaced.
    public var pingTimeout: Duration
    public var connectTimeout: Duration
    public var backoff: AMIBackoff
    /// Drop events the call assembler never reads before parsing them (turn off to debug).
    public var filterEvents: Bool

    public init(
        host: String = "127.0.0.1", port: Int = 5038, username: String, secret: String,
        auth: AMILogin.Auth = .md5, events: String = "on",
        inboundContext: String = "from-trunk", trackingVariable: String? = nil, defaultCountry: Country = .ru,
        maxLineBytes: Int = 8 * 1024, maxMessageBytes: Int = 64 * 1024,
        pingInterval: Duration = .seconds(15), pingTimeout: Duration = .seconds(5),
        connectTimeout: Duration = .seconds(5), backoff: AMIBackoff = AMIBackoff(), filterEvents: Bool = true
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.secret = secret
        self.auth = auth
        self.events = events
        self.inboundContext = inboundContext
        self.trackingVariable = trackingVariable
        self.defaultCountry = defaultCountry
        self.maxLineBytes = maxLineBytes
        self.maxMessageBytes = maxMessageBytes
        self.pingInterval = pingInterval
        self.pingTimeout = pingTimeout
        self.connectTimeout = connectTimeout
        self.backoff = backoff
        self.filterEvents = filterEvents
    }

    var login: AMILogin { AMILogin(username: username, secret: secret, auth: auth, events: events) }

    var assemblerSettings: CallAssemblerSettings {
        CallAssemblerSettings(inboundContext: inboundContext, trackingVariable: trackingVariable, defaultCountry: defaultCountry)
    }

    var limits: AMIDecoder.Limits { AMIDecoder.Limits(maxLineBytes: maxLineBytes, maxMessageBytes: maxMessageBytes) }
}
