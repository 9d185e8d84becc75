import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Webhooks

/// One endpoint's HTTP(S) client: its own connection pool and trust roots, so a slow endpoint's connections
/// never queue another's requests. Posts a signed body and says whether the receiver took it (any 2xx).
public final class WebhookHTTPClient: Sendable {
    /// What became of one attempt.
    public enum Outcome: Sendable, Hashable {
        case accepted(status: Int)
        /// Nothing is known to have arrived: `reason` says why, for logs and dead letters (no lead data).
        case failed(reason: String)
    }

    private let client: HTTPClient
    private let url: String
    private let timeout: TimeAmount

    /// `trustRoots`: the endpoint's `ca_file` certificates (instead of the system's); nil: the system's.
    public init(endpoint: WebhookEndpoint, trustRoots: [NIOSSLCertificate]?, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustRoots { tls.trustRoots = .certificates(trustRoots) }
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .nanoseconds(Int64(endpoint.timeout.microseconds) * 1000)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, endpoint.concurrency)),
            proxy: nil)
        client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        url = endpoint.url.text
        timeout = .nanoseconds(Int64(endpoint.timeout.microseconds) * 1000)
    }

    /// Reads a `ca_file` on NIO's blocking thread pool (never on an event loop).
    public static func trustRoots(file: String) async throws -> [NIOSSLCertificate] {
        try await NIOThreadPool.singleton.runIfActive { try NIOSSLCertificate.fromPEMFile(file) }
    }

    /// POSTs `body` with `headers`; the answer's body is read (up to 64 KiB) and dropped, so the connection is reused.
    public func post(_ body: [UInt8], headers: [(String, String)]) async -> Outcome {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = HTTPHeaders(headers)
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: timeout)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let status = Int(response.status.code)
            return (200..<300).contains(status) ? .accepted(status: status) : .failed(reason: "the endpoint answered \(status)")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            return .failed(reason: "no answer within the timeout (\(error))")
        } catch {
            return .failed(reason: "the request failed: \(error)")
        }
    }

    public func shutdown() async {
        try? await client.shutdown()
    }
}
