import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the peer address.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP as text, without the port.
    public var clientIP: String? { remoteAddress?.ipAddress }
}
