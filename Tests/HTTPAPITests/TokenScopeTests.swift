import CallTrackApp
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

/// Tokens with scopes: a dashboard's `read` token cannot change a pool, a CRM connector's token can only
/// report what it knows, and no secret ever reaches a log line.
@Suite("Admin API tokens and scopes")
struct TokenScopeTests {
    static let secrets: [TokenScope: String] = [
        .admin: AdminAPITests.token, .read: "dashboard-read-token-0123", .connector: "crm-connector-token-0123",
    ]

    /// What each admin operation of docs/openapi.yaml needs, written out here (not taken from the code).
    static func expectedScope(_ operation: String) -> TokenScope {
        if operation.hasPrefix("GET ") { return .read }
        if ["POST /v1/admin/identities", "POST /v1/admin/leads/{call_id}/outcome", "POST /v1/admin/costs"].contains(operation) { return .connector }
        return .admin
    }

    static func config(_ dir: TemporaryDirectory) -> AppConfig {
        var config = TestDaemon.config(dir: dir, adminToken: secrets[.admin])
        // One by its secret, one by its digest as `calltrackd new-token` writes it into the config.
        config.api.tokens = [
            APIToken(name: "grafana", scope: .read, secret: secrets[.read]!),
            APIToken(name: "crm-sync", scope: .connector, sha256: APIToken.digest(hex: APIToken.hex(APIToken.digest(secrets[.connector]!)))!),
        ]
        return config
    }

    @Test("every admin operation × every scope: the scope it needs (or admin) passes, any other answers 403 naming the scope needed")
    func everyRouteTimesEveryScope() async throws {
        let operations = try OpenAPIConformanceTests.document().operations.filter { $0.contains(" /v1/admin/") }.sorted()
        #expect(operations.count >= 13)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let logs = CapturedLogs(level: .trace)
        try await TestDaemon.with(Self.config(dir), logger: logs.logger) { _, client in
            for operation in operations {
                let parts = operation.split(separator: " ")
                let uri = String(parts[1]).replacing(/\{[a-z_]+\}/, with: "x")
                let needed = Self.expectedScope(operation)
                for scope in TokenScope.allCases {
                    let answer = try await client.execute(
                        uri: uri, method: HTTPRequest.Method(String(parts[0]))!,
                        headers: [.authorization: "Bearer \(Self.secrets[scope]!)"], body: ByteBuffer(string: "{}")) { $0 }
                    let granted = scope == .admin || scope == needed
                    if granted {
                        #expect(answer.status != .forbidden && answer.status != .unauthorized, "\(operation) with a \(scope) token")
                    } else {
                        #expect(answer.status == .forbidden, "\(operation) with a \(scope) token")
                        let error = try JSONDecoder().decode([String: String].self, from: Data(answer.body.readableBytesView))["error"] ?? ""
                        #expect(error.contains("needs a token with scope '\(needed.rawValue)'"), "\(operation): \(error)")
                    }
                }
            }
        }
        for secret in Self.secrets.values {
            #expect(!logs.lines.contains { $0.contains(secret) }, "a token's secret in a log line")
        }
    }

    @Test("a token nobody configured, or none, answers 401 whatever the route")
    func unknownToken() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(Self.config(dir)) { (_, client) async throws in
            for headers: HTTPFields in [[:], [.authorization: "Bearer dashboard-read-token-0124"], [.authorization: "Basic eDp5"]] {
                #expect(try await client.status(uri: "/v1/admin/leads", method: .get, headers: headers) == .unauthorized)
            }
        }
    }

    @Test("tokens in the config file: by digest or by secret, each with a scope; a bad digest or a shared secret is refused by key")
    func tokensFromConfig() async throws {
        let dir = TemporaryDirectory("token-config")
        defer { dir.remove() }
        func load(_ tokens: String) async throws -> AppConfig {
            let path = dir.file("calltrackd.yaml")
            try "data: { dir: \"\(dir.path)\" }\n\(tokens)".write(toFile: path, atomically: true, encoding: .utf8)
            return try await ConfigLoader.load(file: path, environment: [:])
        }
        let lines = TokenLines(name: "grafana", scope: .read, secret: "dashboard-read-token-0123").text
        let yaml = lines.split(separator: "\n").drop { !$0.hasPrefix("tokens:") }.joined(separator: "\n")
        let config = try await load(yaml)
        #expect(config.api.tokens == [APIToken(name: "grafana", scope: .read, secret: "dashboard-read-token-0123")])
        let byEnvironment = try await ConfigLoader.load(file: nil, environment: [
            "CALLTRACKD_TOKENS": "crm", "CALLTRACKD_TOKEN_CRM_SCOPE": "connector", "CALLTRACKD_TOKEN_CRM_SECRET": "crm-connector-token-0123",
        ])
        #expect(byEnvironment.api.tokens.map(\.scope) == [.connector])
        for (tokens, key) in [
            ("tokens: [a]\ntoken: { a: { scope: read, sha256: \"abc\" } }", "token.a.sha256"),
            ("tokens: [a]\ntoken: { a: { scope: owner, secret: \"0123456789abcdef\" } }", "token.a.scope"),
            ("tokens: [a]\ntoken: { a: { scope: read } }", "token.a.sha256"),
            ("tokens: [a, b]\ntoken: { a: { scope: read, secret: \"0123456789abcdef\" }, b: { scope: admin, secret: \"0123456789abcdef\" } }", "token.b"),
        ] {
            do {
                _ = try await load(tokens)
                Issue.record("accepted: \(tokens)")
            } catch let problem as ConfigProblem {
                #expect(problem.key == key, "\(problem)")
            }
        }
    }
}
