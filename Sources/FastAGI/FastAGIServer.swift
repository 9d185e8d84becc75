import AGI
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// Serves FastAGI until graceful shutdown: each connection is one `AGI(agi://…)` run by the dialplan.
public struct FastAGIServer: Service {
    let configuration: FastAGIConfiguration
    let router: any AGIRouter
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void
    let metrics = FastAGIMetrics()

    public init(
        configuration: FastAGIConfiguration, router: any AGIRouter, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.router = router
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let configuration = self.configuration
        let router = self.router
        let metrics = self.metrics
        let logger = self.logger
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        FastAGIHandler(configuration: configuration, router: router, metrics: metrics, logger: logger))
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let port = channel.localAddress?.port ?? configuration.port
        logger.notice("FastAGI listening", metadata: ["address": "agi://\(configuration.host):\(port)"])
        await onListening(port)
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await channel.closeFuture.get()
            } onGracefulShutdown: {
                channel.close(promise: nil)
            }
        } onCancel: {
            channel.close(promise: nil)
        }
    }
}
