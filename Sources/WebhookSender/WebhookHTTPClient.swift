import DestinationHTTP
import NIOCore
import NIOPosix
import NIOSSL
import Webhooks

/// A webhook endpoint's client: the destinations' HTTP client, set up from the endpoint.
public typealias WebhookHTTPClient = DestinationHTTPClient

/// Closes the endpoints' clients after their deliveries.
public typealias WebhookClients = DestinationHTTPClients

extension DestinationHTTPClient {
    /// The endpoint's URL, timeout and concurrency; `trustRoots`: its `ca_file` certificates (nil: the system's).
    public convenience init(endpoint: WebhookEndpoint, trustRoots: [NIOSSLCertificate]?, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.init(url: endpoint.url.text, timeout: endpoint.timeout, concurrency: endpoint.concurrency, trustRoots: trustRoots,
                  eventLoopGroup: eventLoopGroup)
    }
}
