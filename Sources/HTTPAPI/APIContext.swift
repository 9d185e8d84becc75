import CallTrackCore
import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the peer address.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The name of the admin token the request was authorised with (never the token): for logs and audit records.
    public var tokenName: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The socket peer's IP as text, without the port: a proxy's, when one is in front.
    public var peerIP: String? { remoteAddress?.ipAddress }

    /// The client's address: the peer's, or the one a trusted proxy names in `Forwarded` / `X-Forwarded-For`.
    /// With no proxy configured (the default) the peer's text is used as NIO gives it, parsed nowhere on the
    /// allocation path but where the stored network is cut.
    public func clientIP(_ request: Request, trusting proxies: TrustedProxies) -> String? {
        guard !proxies.networks.isEmpty else { return peerIP }
        let client = proxies.client(
            peer: peerIP.flatMap { IPAddress($0) },
            forwarded: request.headers[values: Self.forwarded], xForwardedFor: request.headers[values: Self.xForwardedFor])
        return client?.description
    }

    static let forwarded = HTTPFields.Element.Name("Forwarded")!
    static let xForwardedFor = HTTPFields.Element.Name("X-Forwarded-For")!
}
