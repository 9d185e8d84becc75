import Analytics
import AnalyticsSender
import CallTrackCore
import Store
import DestinationHTTP
import Destinations
import Logging
import ServiceLifecycle

extension Daemon {
    /// The configured GA4 properties, each a `DestinationDelivery` of its own registered now (a new property gets
    /// the changes committed from here on), and the service that closes their HTTP clients after them. Retries
    /// draw their jitter from `webhookJitter`, as the webhooks' do.
    func ga4Services() async throws -> [any Service] {
        guard !config.ga4.isEmpty else { return [] }
        var clients: [DestinationHTTPClient] = []
        var deliveries: [any Service] = []
        for property in config.ga4 {
            let client = GA4Destination.client(for: property)
            let destination = GA4Destination(
                property: property, client: client, log: ledger, clock: desk.clock, jitter: webhookJitter,
                userAgent: "calltrackd/\(CalltrackdVersion.current)", logger: logger)
            let delivery = DestinationDelivery(destination: destination, ledger: ledger, clock: desk.clock, logger: logger)
            try await delivery.register()
            clients.append(client)
            deliveries.append(delivery)
            logger.info("GA4 property configured", metadata: [
                "ga4.property": "\(property.id)", "ga4.endpoint": "\(property.redactedURL)", "ga4.sites": "\(property.sites.sorted())",
            ])
        }
        return [DestinationHTTPClients(clients)] + deliveries
    }
}
