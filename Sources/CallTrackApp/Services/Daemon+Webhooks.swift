import CallTrackCore
import Destinations
import Foundation
import HTTPAPI
import Logging
import ServiceLifecycle
import WebhookSender
import Webhooks

extension Daemon {
    /// The configured webhook endpoints, each a `DestinationDelivery` of its own registered now (a new endpoint
    /// gets the changes committed from here on), and the service that closes their HTTP clients after them.
    /// `jitter` draws each retry's r ∈ [0, 1] (tests pass a constant, with a manual clock).
    func webhookServices(jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }) async throws -> [any Service] {
        guard !config.webhooks.isEmpty else { return [] }
        var clients: [WebhookHTTPClient] = []
        var deliveries: [any Service] = []
        for endpoint in config.webhooks {
            let roots = try await endpoint.caFile.asyncMap { file in
                do { return try await WebhookHTTPClient.trustRoots(file: file) } catch {
                    throw ConfigProblem(key: "webhook.\(endpoint.id).ca_file", "cannot read certificates from \(file) (\(error)): write the path of a PEM file")
                }
            }
            let client = WebhookHTTPClient(endpoint: endpoint, trustRoots: roots)
            let destination = WebhookDestination(
                endpoint: endpoint, client: client, clock: desk.clock, jitter: jitter, leadJSON: Self.leadJSON,
                userAgent: "calltrackd/\(CalltrackdVersion.current)", logger: logger)
            let delivery = DestinationDelivery(destination: destination, ledger: ledger, clock: desk.clock, logger: logger)
            try await delivery.register()
            webhooks.add(endpoint.id) { since in try await delivery.replay(since: since) }
            clients.append(client)
            deliveries.append(delivery)
            logger.info("webhook endpoint configured", metadata: [
                "webhook.endpoint": "\(endpoint.id)", "webhook.url": "\(endpoint.url)", "webhook.sites": "\(endpoint.sites.sorted())",
            ])
        }
        return [WebhookClients(clients)] + deliveries
    }

    /// A lead as `GET /v1/admin/leads` shows it: webhooks and the admin API share the `Lead` schema.
    @Sendable public static func leadJSON(_ lead: Lead) -> [UInt8] {
        (try? JSONEncoder.api.encode(LeadView(lead))).map(Array.init) ?? Array("{}".utf8)
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async throws -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
