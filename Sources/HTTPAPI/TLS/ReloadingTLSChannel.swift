import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// HTTP over TLS with the certificate `TLSCertificates` holds at the moment each connection opens, so a reload
/// reaches new connections without touching open ones. Hummingbird's own `TLSChannel` fixes its context at start.
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let certificates: TLSCertificates

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let context = certificates.current
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadingTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}

extension HTTPServerBuilder {
    /// HTTP/1.1, behind TLS when `certificates` are given (the certificate they hold when each connection opens);
    /// a connection with no request in flight is closed after `idleTimeout`.
    public static func calltrackd(idleTimeout: TimeAmount, certificates: TLSCertificates?) -> HTTPServerBuilder {
        let configuration = HTTP1Channel.Configuration(idleTimeout: idleTimeout)
        guard let certificates else { return .http1(configuration: configuration) }
        return .init { responder in
            ReloadingTLSChannel(base: HTTP1Channel(responder: responder, configuration: configuration), certificates: certificates)
        }
    }
}
