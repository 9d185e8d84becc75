import ServiceLifecycle

/// Closes the HTTP destinations' clients when the daemon stops. Listed before the deliveries that use them, so it
/// stops after them (services stop in reverse order) and no delivery is left with a closed client.
public struct DestinationHTTPClients: Service {
    public let clients: [DestinationHTTPClient]

    public init(_ clients: [DestinationHTTPClient]) { self.clients = clients }

    public func run() async throws {
        try? await gracefulShutdown()
        for client in clients { await client.shutdown() }
    }
}
