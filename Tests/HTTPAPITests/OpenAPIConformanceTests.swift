import CallTrackApp
import Foundation
import HTTPAPI
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import Testing
import TestSupport

/// Every answer of every HTTP test is checked against docs/openapi.yaml by `CheckedClient`; these tests check the
/// checker, and that the document and the router list the same operations.
@Suite("docs/openapi.yaml describes every answer")
struct OpenAPIConformanceTests {
    static func document() throws -> OpenAPIDocument { try OpenAPIDocument.shared.get() }

    @Test("the document lists exactly the operations the router serves")
    func sameOperations() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)
        let served = try await TestDaemon.with(config) { daemon, _ in
            let router = APIRouter.make(
                desk: daemon.desk, settings: config.api, country: config.country, registry: PrometheusCollectorRegistry(),
                ledger: daemon.ledger, statistics: daemon.statistics, dealerStats: daemon.dealerStatsDesk, dealers: daemon.dealers,
                money: daemon.moneyDesk, webhookReplays: daemon.webhooks)
            return Set(router.routes.map { "\($0.method.rawValue) \($0.path.description)" })
        }
        let documented = try Self.document().operations
        #expect(served.subtracting(documented).sorted() == [], "served but not documented")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
    }

    @Test("the checker finds an undocumented status, key or type, a missing key, a time without offset, a bare 404")
    func checkerFindsDrift() throws {
        let document = try Self.document()
        let json = "application/json; charset=utf-8"
        func problems(_ method: String, _ uri: String, _ status: Int, _ body: String, type: String? = json) -> [String] {
            document.problems(method: method, uri: uri, status: status, contentType: type, body: Array(body.utf8))
        }
        let pool = #"{"free":1,"live":0,"pool_id":"main","site_id":"acme","size":1}"#
        #expect(problems("GET", "/v1/admin/pools", 200, "[\(pool)]") == [])
        #expect(problems("GET", "/v1/admin/pools?limit=3", 200, "[\(pool)]") == [], "the query is not part of the path")
        #expect(!problems("GET", "/v1/admin/pools", 418, #"{"error":"teapot"}"#).isEmpty, "undocumented status")
        #expect(!problems("GET", "/v1/admin/pools", 200, #"[{"free":1,"live":0,"poolId":"main","site_id":"acme","size":1}]"#).isEmpty,
                "camelCase key")
        #expect(!problems("GET", "/v1/admin/pools", 200, #"[{"free":"1","live":0,"pool_id":"main","site_id":"acme","size":1}]"#).isEmpty,
                "a string where an integer is documented")
        #expect(!problems("GET", "/v1/admin/pools", 200, #"[{"live":0,"pool_id":"main","site_id":"acme","size":1}]"#).isEmpty,
                "a required key missing")
        let call = #"{"caller":"+79161234567","caller_withheld":false,"id":"1.1","resumed":false,"tracking_number":"+74950000101","#
        #expect(problems("GET", "/v1/admin/calls", 200, "[\(call)\"started_at\":\"2026-11-24T18:31:08Z\"}]") == [])
        #expect(!problems("GET", "/v1/admin/calls", 200, "[\(call)\"started_at\":\"2026-11-24 18:31:08\"}]").isEmpty, "no offset")
        #expect(!problems("GET", "/v1/admin/calls", 200, "[\(call)\"started_at\":{\"microsecondsSinceEpoch\":1}}]").isEmpty,
                "a time as an object")
        #expect(!problems("GET", "/v1/admin/sites/acme", 404, "", type: nil).isEmpty, "an error without a body")
        #expect(!problems("GET", "/v1/admin/sites/acme", 404, "Not Found", type: "text/plain").isEmpty, "an error that is not JSON")
        #expect(problems("GET", "/v1/nothing/here", 404, #"{"error":"no route"}"#) == [])
        #expect(!problems("GET", "/v1/nothing/here", 404, "", type: nil).isEmpty, "a bare 404")
        #expect(!problems("GET", "/v1/nothing/here", 200, "{}").isEmpty, "an undocumented path that answers")
    }

    @Test("every admin operation answers 401 with a JSON error without the token, and 403 when the API is off")
    func adminOperationsNeedTheToken() async throws {
        let operations = try Self.document().operations.filter { $0.contains(" /v1/admin/") }.sorted()
        #expect(operations.count == 24)
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        for (token, expected) in [(AdminAPITests.token, HTTPResponse.Status.unauthorized), (nil, .forbidden)] {
            try await TestDaemon.with(TestDaemon.config(dir: dir, adminToken: token)) { _, client in
                for operation in operations {
                    let parts = operation.split(separator: " ")
                    let uri = String(parts[1]).replacing(/\{[a-z_]+\}/, with: "x")
                    let answer = try await client.execute(
                        uri: uri, method: HTTPRequest.Method(String(parts[0]))!, headers: [.authorization: "Bearer wrong"],
                        body: ByteBuffer(string: "{}")) { $0 }
                    #expect(answer.status == expected, "\(operation)")
                    let error = try? JSONDecoder().decode([String: String].self, from: Data(answer.body.readableBytesView))
                    #expect(error?["error"]?.contains("admin") == true, "\(operation)")
                }
            }
        }
    }

    @Test("a path no route answers, or a method it does not take: 404 with a JSON error that says so")
    func unknownRoutes() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { _, client in
            for (uri, method) in [("/v1/nothing", HTTPRequest.Method.get), ("/healthz", .post), ("/v1/sessions", .get)] {
                let answer = try await client.execute(uri: uri, method: method) { $0 }
                #expect(answer.status == .notFound)
                #expect(answer.headers[.contentType]?.hasPrefix("application/json") == true)
                let error = try JSONDecoder().decode([String: String].self, from: Data(answer.body.readableBytesView))
                #expect(error["error"]?.contains("no route answers \(method.rawValue) \(uri)") == true)
            }
            // A preflight from an origin no site lists is refused with a reason too.
            let preflight = try await client.execute(
                uri: "/v1/errors", method: .options, headers: [.origin: "https://evil.example"]) { String(buffer: $0.body) }
            #expect(preflight.contains("https://evil.example is not allowed"))
        }
    }
}
