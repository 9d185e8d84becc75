import ServiceLifecycle

/// Closes the endpoints' HTTP clients when the daemon stops. Listed before the webhook deliveries, so it stops
/// after them (services stop in reverse order) and no delivery is left with a closed client.
public struct WebhookClients: Service {
    public let clients: [WebhookHTTPClient]

    public init(_ clients: [WebhookHTTPClient]) { self.clients = clients }

    public func run() async throws {
        try? await gracefulShutdown()
        for client in clients { await client.shutdown() }
    }
}
