import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One HTTP destination's client (a webhook endpoint, a GA4 property): its own connection pool and trust roots,
/// so a slow destination's connections never queue another's requests. Posts a body and says whether the
/// receiver took it (any 2xx). Redirects are not followed and no proxy is used: the request goes where the
/// config says.
public final class DestinationHTTPClient: Sendable {
    /// What became of one attempt.
    public enum Outcome: Sendable, Hashable {
        case accepted(status: Int)
        /// Nothing is known to have arrived: `reason` says why, for logs and dead letters (no lead data).
        case failed(reason: String)
    }

    private let client: HTTPClient
    private let url: String
    private let timeout: TimeAmount

    /// `url` is where `post` sends; `timeout` bounds one attempt (connection, request and answer); `concurrency`
    /// is the connections kept to the host; `trustRoots` the certificates trusted instead of the system's (nil:
    /// the system's).
    public init(
        url: String, timeout: Duration, concurrency: Int, trustRoots: [NIOSSLCertificate]?,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let trustRoots { tls.trustRoots = .certificates(trustRoots) }
        let deadline = TimeAmount.nanoseconds(Self.nanoseconds(timeout))
        let configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: deadline),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(1, concurrency)),
            proxy: nil)
        client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        self.url = url
        self.timeout = deadline
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

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
