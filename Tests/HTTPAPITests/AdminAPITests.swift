import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Admin API: numbers and pools change without a restart, and the change survives one")
struct AdminAPITests {
    static let token = "test-admin-token-0123456789"
    static let auth: HTTPFields = [.authorization: "Bearer \(token)"]

    @Test("no token configured: 403; wrong token: 401")
    func authentication() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { (_, client) async throws in
            #expect(try await client.status(uri: "/v1/admin/sites", method: .get) == .forbidden)
        }
        try await TestDaemon.with(TestDaemon.config(dir: dir, adminToken: Self.token)) { (_, client) async throws in
            let wrong: HTTPFields = [.authorization: "Bearer nope"]
            #expect(try await client.status(uri: "/v1/admin/sites", method: .get, headers: wrong) == .unauthorized)
            #expect(try await client.status(uri: "/v1/admin/sites", method: .get, headers: Self.auth) == .ok)
        }
    }

    @Test("a call that ended while the daemon was cut off from Asterisk reads as unknown in the calls API and its lead, not as no answer")
    func callClosedByResyncIsUnknown() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let ringing = CallRecord(id: "1800000000.7", revision: 1, trackingNumber: try PhoneNumber.e164("+74950000101"), dialled: "74950000101",
                                 caller: try PhoneNumber.e164("+79161234567"), callerRaw: "+79161234567", callerWithheld: false, startedAt: t)
        // As the AMI assembler closes it at the resync: never seen answered, ended when we found out.
        var closed = ringing
        closed.revision = 3
        closed.endedAt = t + .seconds(300)
        closed.ringSeconds = 300
        closed.disposition = "unknown"
        closed.endedWhileDisconnected = true
        let ended = closed
        try await TestDaemon.with(TestDaemon.config(dir: dir, adminToken: Self.token)) { daemon, client in
            await daemon.leads.handle(ringing)
            await daemon.leads.handle(ended)
            let calls = try JSONSerialization.jsonObject(with: Data(try await client.text(uri: "/v1/admin/calls", method: .get, headers: Self.auth).utf8))
            let shown = try #require((calls as? [[String: Any]])?.first)
            #expect(shown["disposition"] as? String == "unknown")
            #expect(shown["ended_while_disconnected"] as? Bool == true)
            let leads = try JSONSerialization.jsonObject(with: Data(try await client.text(uri: "/v1/admin/leads", method: .get, headers: Self.auth).utf8))
            let lead = try #require((leads as? [[String: Any]])?.first)
            #expect(lead["disposition"] as? String == "unknown")
            #expect(lead["is_lead"] as? Bool == true, "a real caller nobody may have answered: a lead to call back")
            #expect(lead["junk_reason"] == nil || lead["junk_reason"] is NSNull)
        }
    }

    @Test("a number added to a full pool is leased at once, and is still there after a restart")
    func addNumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = TestDaemon.config(numbers: 1, dir: dir, adminToken: Self.token)
        try await TestDaemon.with(config) { _, client in
            _ = try await client.allocate(#"{"site":"acme","session_id":"sess_admin001"}"#)
            #expect(try await client.allocate(#"{"site":"acme","session_id":"sess_admin002"}"#).answer?.reason == "exhausted")
            let added = try await client.execute(
                uri: "/v1/admin/pools/acme-main/numbers", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"number":"8 (495) 000-77-77"}"#)) { $0.status }
            #expect(added == .ok)
            let next = try await client.allocate(#"{"site":"acme","session_id":"sess_admin003"}"#)
            #expect(next.answer?.number == "+74950007777")
            let garbage = try await client.execute(
                uri: "/v1/admin/pools/acme-main/numbers", method: .post, headers: Self.auth,
                body: ByteBuffer(string: #"{"number":"call me"}"#)) { response in
                (response.status, String(buffer: response.body))
            }
            #expect(garbage.0 == .badRequest)
            #expect(garbage.1.contains("is not a phone number"))
        }
        // The config file still lists one number; the admin change outranks it.
        try await TestDaemon.with(config) { daemon, _ in
            let pool = daemon.book.site("acme")?.pools.first
            #expect(pool?.numbers.map(\.e164).contains("+74950007777") == true)
            #expect(await daemon.book.liveLeases(pool: "acme-main").count == 2)
        }
    }

    @Test("a retired site answers 404 and stays retired after a restart, though the config file lists it")
    func retireSite() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = TestDaemon.config(dir: dir, adminToken: Self.token)
        try await TestDaemon.with(config) { (_, client) async throws in
            #expect(try await client.allocate(#"{"site":"acme"}"#).status == .ok)
            #expect(try await client.status(uri: "/v1/admin/sites/acme", method: .delete, headers: Self.auth) == .noContent)
            #expect(try await client.allocate(#"{"site":"acme"}"#).status == .notFound)
        }
        try await TestDaemon.with(config) { (daemon, client) async throws in
            #expect(daemon.book.site("acme") == nil)
            #expect(try await client.allocate(#"{"site":"acme"}"#).status == .notFound)
            // Putting it back through the admin API revives it.
            let body = #"{"default_number":"+74950000000","pools":[{"id":"acme-main","numbers":["+74950000101"]}]}"#
            #expect(try await client.status(uri: "/v1/admin/sites/acme", method: .put, headers: Self.auth, body: ByteBuffer(string: body)) == .ok)
            #expect(try await client.allocate(#"{"site":"acme"}"#).answer?.number == "+74950000101")
        }
    }

    @Test("retiring a number takes it out of the pool; a number in another pool is refused")
    func retireAndConflict() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(numbers: 2, dir: dir, adminToken: Self.auth.isEmpty ? nil : Self.token)) { daemon, client in
            let retired = try await client.status(
                uri: "/v1/admin/pools/acme-main/numbers/+74950000101", method: .delete, headers: Self.auth)
            #expect(retired == .ok)
            #expect(daemon.book.site("acme")?.pools.first?.numbers.map(\.e164) == ["+74950000102"])
            let pool = #"{"numbers":["+74950000102"],"idle_ttl":"5m","on_exhaustion":"share"}"#
            let conflict = try await client.status(
                uri: "/v1/admin/sites/acme/pools/second", method: .put, headers: Self.auth, body: ByteBuffer(string: pool))
            #expect(conflict == .conflict)
            let badDuration = try await client.execute(
                uri: "/v1/admin/sites/acme/pools/second", method: .put, headers: Self.auth,
                body: ByteBuffer(string: #"{"numbers":["+74950000200"],"idle_ttl":"soon"}"#)) { String(buffer: $0.body) }
            #expect(badDuration.contains("pool.idle_ttl"))
            let created = try await client.execute(
                uri: "/v1/admin/sites/acme/pools/second", method: .put, headers: Self.auth,
                body: ByteBuffer(string: #"{"numbers":["+74950000200"],"idle_ttl":"5m"}"#)) { $0.status }
            #expect(created == .ok)
            let pools = try await client.text(uri: "/v1/admin/pools", method: .get, headers: Self.auth)
            #expect(pools.contains("\"pool_id\":\"second\""))
        }
    }
}

@Suite("Ops routes and the snippet file")
struct OpsRouteTests {
    @Test("healthz, readyz, metrics answer; ct.js has an ETag and answers 304 to it")
    func opsAndSnippet() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { _, client in
            #expect(try await client.status(uri: "/healthz", method: .get) == .ok)
            #expect(try await client.status(uri: "/readyz", method: .get) == .ok)
            #expect(try await client.status(uri: "/metrics", method: .get) == .ok)
            let script = try await client.execute(uri: "/ct.js", method: .get) { $0 }
            #expect(script.status == .ok)
            #expect(script.headers[.contentType]?.hasPrefix("application/javascript") == true)
            #expect(script.headers[.cacheControl]?.contains("max-age") == true)
            let etag = try #require(script.headers[.eTag])
            let again = try await client.status(uri: "/ct.js", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again == .notModified)
            // Browsers accept gzip: the same script, a third of the bytes, under its own ETag.
            let raw = script.body.readableBytes
            let gzip = try await client.execute(uri: "/ct.js", method: .get, headers: [.acceptEncoding: "gzip, deflate, br"]) { $0 }
            #expect(gzip.headers[.contentEncoding] == "gzip")
            let bytes = Array(gzip.body.readableBytesView)
            #expect(bytes.prefix(2) == [0x1f, 0x8b])
            #expect(bytes.count < raw / 2)
            // The gzip trailer ends with the uncompressed size.
            let size = bytes.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            #expect(size == raw)
            let gzipTag = try #require(gzip.headers[.eTag])
            #expect(gzipTag != etag)
            let gzipAgain = try await client.status(uri: "/ct.js", method: .get, headers: [.acceptEncoding: "gzip", .ifNoneMatch: gzipTag])
            #expect(gzipAgain == .notModified)
        }
    }
}
