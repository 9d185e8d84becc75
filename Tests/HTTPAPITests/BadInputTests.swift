import CallTrackApp
import CallTrackCore
import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Bad input gets a clear answer, never a crash")
struct BadInputTests {
    @Test("malformed JSON, a missing field, a wrong type: 400 naming the problem")
    func malformedJSON() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            let broken = try await client.allocate("{bad")
            #expect(broken.status == .badRequest)
            #expect(broken.error == "the body is not valid JSON")
            let missing = try await client.allocate(#"{"visitor_id":"x"}"#)
            #expect(missing.status == .badRequest)
            #expect(missing.error == "missing field 'site'")
            let wrongType = try await client.allocate(#"{"site":42}"#)
            #expect(wrongType.error == "wrong type at 'site'")
            let binary = try await client.status(
                uri: "/v1/sessions", method: .post, body: ByteBuffer(bytes: [0xff, 0xfe, 0x00, 0x7b]))
            #expect(binary == .badRequest)
            #expect(try await daemon.store.count("session") == 0)
        }
    }

    @Test("a body over the limit: 413 with the limit in the message")
    func oversizedBody() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { _, client in
            let huge = #"{"site":"acme","referrer":""# + String(repeating: "a", count: 40_000) + #""}"#
            let answer = try await client.allocate(huge)
            #expect(answer.status == .contentTooLarge)
            #expect(answer.error == "the body is larger than 16384 bytes")
        }
    }

    @Test("an unknown site: 404 that says how to add it")
    func unknownSite() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { _, client in
            let answer = try await client.allocate(#"{"site":"nope"}"#)
            #expect(answer.status == .notFound)
            #expect(answer.error?.contains("unknown site 'nope'") == true)
        }
    }

    @Test("a disallowed origin: 403 and counted; an allowed one gets CORS headers; preflight too")
    func origins() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            let evil = try await client.allocate(#"{"site":"acme"}"#, headers: [.origin: "https://evil.example"])
            #expect(evil.status == .forbidden)
            #expect(evil.headers[.accessControlAllowOrigin] == nil)
            let good = try await client.allocate(#"{"site":"acme"}"#, headers: [.origin: "https://acme.example"])
            #expect(good.status == .ok)
            #expect(good.headers[.accessControlAllowOrigin] == "https://acme.example")
            let preflight = try await client.execute(
                uri: "/v1/sessions", method: .options,
                headers: [.origin: "https://acme.example", .accessControlRequestMethod: "POST"]) { $0 }
            #expect(preflight.status == .noContent)
            #expect(preflight.headers[.accessControlAllowOrigin] == "https://acme.example")
            let badPreflight = try await client.status(
                uri: "/v1/sessions", method: .options, headers: [.origin: "https://evil.example"])
            #expect(badPreflight == .forbidden)
            #expect(try await daemon.store.count("session") == 1)
        }
    }

    @Test("bots get the default number and never a pool number or a stored lease")
    func bots() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            for agent in ["Googlebot/2.1 (+http://www.google.com/bot.html)", "Mozilla/5.0 HeadlessChrome/120", "python-requests/2.31"] {
                let answer = try await client.allocate(#"{"site":"acme"}"#, userAgent: agent)
                #expect(answer.answer?.kind == "fallback")
                #expect(answer.answer?.reason == "bot")
                #expect(answer.answer?.number == "+74950000000")
            }
            #expect(try await daemon.store.count("lease") == 0)
            #expect(await daemon.book.liveLeases(pool: "acme-main").isEmpty)
        }
    }

    @Test("one client asking for many sessions drains nothing: the flood gets the default number")
    func flood() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = TestDaemon.config(numbers: 50, dir: dir)
        config.perIP = .init(burst: 5, perMinute: 1)
        try await TestDaemon.with(config) { daemon, client in
            var kinds: [String: Int] = [:]
            for index in 0..<20 {
                let answer = try await client.allocate(#"{"site":"acme","session_id":"sess_flood\#(100 + index)"}"#)
                kinds[answer.answer?.reason ?? answer.answer?.kind ?? "?", default: 0] += 1
            }
            #expect(kinds["pool"] == 5)
            #expect(kinds["rate_limited"] == 15)
            #expect(await daemon.book.liveLeases(pool: "acme-main").count == 5)
        }
    }

    @Test("Do-Not-Track with respect_dnt: the default number, nothing stored")
    func doNotTrack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            let viaBody = try await client.allocate(#"{"site":"acme","dnt":true}"#)
            let viaHeader = try await client.allocate(#"{"site":"acme"}"#, headers: [HTTPFields.Element.Name("Sec-GPC")!: "1"])
            #expect(viaBody.answer?.reason == "dnt")
            #expect(viaHeader.answer?.reason == "dnt")
            #expect(try await daemon.store.count("session") == 0)
        }
    }

    @Test("a full disk: 503 with a message, no half-written lease, the number goes back to the pool")
    func fullDisk() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = TestDaemon.config(numbers: 60, dir: dir)
        // The empty schema's pages (49 of 4 KiB: dealer routing's tables and indexes are 11 of them, CRM outcomes' and ad
        // costs' 3) and the same room as before them: a few of these sessions, not sixty.
        config.storage.maxSizeBytes = 216 * 1024
        try await TestDaemon.with(config) { daemon, client in
            var acknowledged: [String: String] = [:]
            var refusal: String?
            let padding = String(repeating: "x", count: 2000)
            for index in 0..<60 {
                let session = "sess_disk\(1000 + index)"
                let answer = try await client.allocate(#"{"site":"acme","session_id":"\#(session)","landing_url":"https://acme.example/\#(padding)"}"#)
                if answer.status == .ok { acknowledged[session] = answer.answer?.number } else {
                    #expect(answer.status == .serviceUnavailable)
                    refusal = answer.error
                    break
                }
            }
            #expect(refusal?.contains("full") == true)
            #expect(acknowledged.count > 0)
            // Exactly the acknowledged leases exist, in the store and in the pool.
            #expect(try await daemon.store.count("lease") == acknowledged.count)
            #expect(await daemon.book.liveLeases(pool: "acme-main").count == acknowledged.count)
            for (session, number) in acknowledged {
                #expect(try await daemon.store.session(session)?.number.e164 == number)
            }
        }
    }

    @Test("a database locked by another process: 503 that says so, then service resumes")
    func lockedDatabase() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = TestDaemon.config(dir: dir)
        config.storage.busyTimeoutSeconds = 0.05
        let path = config.databasePath
        try await TestDaemon.with(config) { daemon, client in
            // Another process holds the write lock: a thread of ours stands in for it, inside one GRDB access.
            let intruder = try DatabaseQueue(path: path)
            let (holding, release, released) = (DispatchSemaphore(value: 0), DispatchSemaphore(value: 0), DispatchSemaphore(value: 0))
            Thread.detachNewThread {
                try? intruder.inDatabase { db in
                    try db.execute(sql: "BEGIN EXCLUSIVE")
                    holding.signal()
                    release.wait()
                    try db.execute(sql: "ROLLBACK")
                }
                released.signal()
            }
            holding.wait()
            let locked = try await client.allocate(#"{"site":"acme","session_id":"sess_locked01"}"#)
            release.signal()
            released.wait()
            #expect(locked.status == .serviceUnavailable)
            #expect(locked.error?.contains("locked") == true)
            #expect(await daemon.book.liveLeases(pool: "acme-main").isEmpty)
            let after = try await client.allocate(#"{"site":"acme","session_id":"sess_locked01"}"#)
            #expect(after.status == .ok)
            #expect(after.answer?.kind == "pool")
        }
    }
}
