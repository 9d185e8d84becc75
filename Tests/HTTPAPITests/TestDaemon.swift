import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Prometheus
import Store
import TestSupport

/// A daemon on a real SQLite file in a temp dir and a real socket, with a manual clock.
struct TestDaemon {
    static let browser = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"

    static func config(numbers: Int = 5, policy: String = "fallback", dir: TemporaryDirectory, adminToken: String? = nil) -> AppConfig {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.api.adminToken = adminToken
        config.perIP = .init(burst: 100_000, perMinute: 100_000)
        config.perVisitor = .init(burst: 100_000, perMinute: 100_000)
        let pool = Pool(
            id: "acme-main", numbers: (1...numbers).map { try! PhoneNumber.e164("+749500001\(String(format: "%02d", $0))") },
            policy: PoolPolicy(onExhaustion: ExhaustionPolicy(rawValue: policy)!))
        config.sites = [Site(
            id: "acme", defaultNumber: try! PhoneNumber.e164("+74950000000"),
            allowedOrigins: ["https://acme.example"], displayMask: DisplayMask("+7 (XXX) XXX-XX-XX"),
            respectDoNotTrack: true, pools: [pool])]
        return config
    }

    /// Opens the daemon, runs its store writer, and hands a client on a real socket to `body`; every answer the
    /// client gets is checked against docs/openapi.yaml (`CheckedClient`).
    static func with<T: Sendable>(
        _ config: AppConfig, clock: ManualClock = ManualClock(), logger: Logger = Logger(label: "test"),
        _ body: @Sendable (Daemon, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: clock, logger: logger)
        let writer = Task { await daemon.store.run() }
        defer { writer.cancel() }
        return try await daemon.application().test(.live) { client in try await body(daemon, CheckedClient(inner: client)) }
    }
}

/// The answer of `POST /v1/sessions` as a page sees it.
struct Answer: Decodable {
    var session_id: String
    var visitor_id: String
    var number: String
    var display: String
    var kind: String
    var reason: String?
    var expires_at: String?
}

extension TestClientProtocol {
    func allocate(
        _ json: String, userAgent: String = TestDaemon.browser, headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, answer: Answer?, error: String?, headers: HTTPFields) {
        var headers: HTTPFields = [.userAgent: userAgent, .contentType: "text/plain"]
        headers.append(contentsOf: extra)
        return try await execute(uri: "/v1/sessions", method: .post, headers: headers, body: ByteBuffer(string: json)) { response in
            let data = Data(response.body.readableBytesView)
            let answer = try? JSONDecoder().decode(Answer.self, from: data)
            let error = (try? JSONDecoder().decode([String: String].self, from: data))?["error"]
            return (response.status, answer, error, response.headers)
        }
    }
}

extension TestClientProtocol {
    func status(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> HTTPResponse.Status {
        try await execute(uri: uri, method: method, headers: headers, body: body) { $0.status }
    }

    func text(uri: String, method: HTTPRequest.Method, headers: HTTPFields = [:], body: ByteBuffer? = nil) async throws -> String {
        try await execute(uri: uri, method: method, headers: headers, body: body) { String(buffer: $0.body) }
    }
}
