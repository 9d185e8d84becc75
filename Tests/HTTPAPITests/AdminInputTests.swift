import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Admin API input: paths as clients encode them, identifiers the daemon issued")
struct AdminInputTests {
    static let auth = AdminAPITests.auth

    @Test("path parameters are percent-decoded: %2B is the + of a number, acm%65 is acme; a broken escape is a 400 naming it")
    func percentDecodedPaths() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(numbers: 2, dir: dir, adminToken: AdminAPITests.token)) { daemon, client in
            let site = try await client.execute(uri: "/v1/admin/sites/acm%65", method: .get, headers: Self.auth) { $0 }
            #expect(site.status == .ok)
            #expect(String(buffer: site.body).contains(#""id":"acme""#))
            let retired = try await client.status(uri: "/v1/admin/pools/acme-main/numbers/%2B74950000101", method: .delete, headers: Self.auth)
            #expect(retired == .ok)
            #expect(daemon.book.site("acme")?.pools.first?.numbers.map(\.e164) == ["+74950000102"])
            let broken = try await client.execute(uri: "/v1/admin/sites/acme%E2%28", method: .get, headers: Self.auth) { $0 }
            #expect(broken.status == .badRequest)
            #expect(String(buffer: broken.body).contains("site"))
            // The snippet's own routes decode too: a session id sent escaped pings the same session.
            _ = try await client.allocate(#"{"site":"acme","session_id":"sess_decode01"}"#)
            let ping = try await client.status(
                uri: "/v1/sessions/sess%5Fdecode01/ping", method: .post, body: ByteBuffer(string: #"{"site":"acme"}"#))
            #expect(ping == .ok)
        }
    }

    @Test("an identity link names a visitor the daemon has seen: a malformed visitor_id is a 400, an unseen one a 404, and no phantom person appears")
    func identityLinksNeedAKnownVisitor() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)) { _, client in
            let visit = try #require(try await client.allocate(#"{"site":"acme","visitor_id":"v_0mx5n00lxk3f0a9x7be5d"}"#).answer)
            func link(_ body: String) async throws -> (status: HTTPResponse.Status, error: String) {
                try await client.execute(uri: "/v1/admin/identities", method: .post, headers: Self.auth, body: ByteBuffer(string: body)) {
                    ($0.status, (try? JSONDecoder().decode([String: String].self, from: Data($0.body.readableBytesView)))?["error"] ?? "")
                }
            }
            for malformed in [#""""#, #""x""#, #""v_0mx5n00lxk3f0a9\nx7be5d""#, #""v_0mx5n00lxk3f0a9x7be5d; DROP""#] {
                let answer = try await link(#"{"kind":"crm","value":"amo-1","visitor_id":\#(malformed)}"#)
                #expect(answer.status == .badRequest, "\(malformed)")
                #expect(answer.error.contains("visitor_id"), "\(malformed)")
            }
            let unseen = try await link(#"{"kind":"crm","value":"amo-1","visitor_id":"v_0000000000000000000000"}"#)
            #expect(unseen.status == .notFound)
            #expect(unseen.error.contains("visitor_id 'v_0000000000000000000000'"))
            #expect(try await client.status(uri: "/v1/admin/visitors/v_0000000000000000000000", method: .get, headers: Self.auth) == .notFound)
            let call = try await link(#"{"kind":"crm","value":"amo-1","call_id":"1700000000.1\n"}"#)
            #expect(call.status == .badRequest)
            #expect(call.error.contains("call_id"))
            let source = try await link(#"{"kind":"crm","value":"amo-1","visitor_id":"\#(visit.visitor_id)","source":"crm\u009b2J"}"#)
            #expect(source.status == .badRequest)
            #expect(source.error.contains("source"))
            // C1 controls (U+009B starts a terminal escape on its own) are control characters too.
            let value = try await link(#"{"kind":"crm","value":"amo\u009b1","visitor_id":"\#(visit.visitor_id)"}"#)
            #expect(value.status == .badRequest)
            let linked = try await client.execute(
                uri: "/v1/admin/identities", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"kind":"crm","value":"amo-1","visitor_id":"\#(visit.visitor_id)"}"#)) { $0 }
            #expect(linked.status == .ok)
            #expect(String(buffer: linked.body).contains(#""visitor_ids":["v_0mx5n00lxk3f0a9x7be5d"]"#))
        }
    }
}
