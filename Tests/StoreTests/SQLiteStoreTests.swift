import CallTrackCore
import Foundation
import Logging
@testable import Store
import Testing
import TestSupport

@Suite("SQLite state store on a real file")
struct SQLiteStoreTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static func number(_ n: Int) -> PhoneNumber { try! PhoneNumber.e164("+7495000\(String(format: "%04d", n))") }

    static func lease(_ n: Int, session: String, visitor: String, start: Timestamp, expires: Timestamp) -> Lease {
        Lease(poolID: "main", number: number(n), sessionID: session, visitorID: visitor, startedAt: start, lastActivityAt: start, expiresAt: expires)
    }

    static func session(_ id: String, visitor: String, number n: Int, at t: Timestamp) -> SessionRecord {
        SessionRecord(id: id, visitorID: visitor, siteID: "acme", startedAt: t, lastActivityAt: t,
                      source: MarketingSource(utmSource: "google", utmMedium: "cpc"), number: number(n), kind: .pool)
    }

    @Test("concurrent writers are grouped into few transactions, and every write is there after reopening")
    func groupCommit() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<2000 {
                group.addTask {
                    let id = "sess_\(index)"
                    try await store.apply([
                        .session(Self.session(id, visitor: "v\(index)", number: index, at: Self.t0)),
                        .lease(Self.lease(index, session: id, visitor: "v\(index)", start: Self.t0, expires: Self.t0 + .seconds(1200))),
                    ])
                }
            }
            try await group.waitForAll()
        }
        #expect(store.committedTransactions < 2000)
        // Ops find the writer by name in `top -H` and perf (it ran under an event loop's name before).
        let names = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").map { task in
            (try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? ""
        }
        #expect(names.contains("ct-store-writer\n"))
        writer.cancel()
        let reopened = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        #expect(try await reopened.count("lease") == 2000)
        #expect(try await reopened.count("session") == 2000)
        #expect(try await reopened.session("sess_1999")?.source.utmSource == "google")
    }

    @Test("a session and a lease read back exactly as written: every column, non-ASCII text, '' kept apart from NULL")
    func rowsRoundTrip() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let source = MarketingSource(
            utmSource: "яндекс", utmMedium: "cpc", utmCampaign: "весна-2026", utmContent: "", utmTerm: "станки с чпу",
            clickIDs: ClickIDs(gclid: "g1", yclid: "y2", fbclid: nil, msclkid: "m4"),
            referrer: "", landingURL: "https://acme.example/каталог?utm_source=яндекс", channel: .paidSearch)
        let full = SessionRecord(
            id: "s_full", visitorID: "v_full", siteID: "acme", startedAt: Self.t0, lastActivityAt: Self.t0 + .seconds(5),
            source: source, userAgent: "Mozilla/5.0 (X11; Linux x86_64)", clientNetwork: "203.0.113.0/24",
            gaClientID: "GA1.2.3.4", ymUID: "", number: Self.number(7), kind: .fallback, reason: .exhausted)
        let bare = SessionRecord(id: "s_bare", visitorID: "v_bare", siteID: "acme", startedAt: Self.t0, lastActivityAt: Self.t0,
                                 source: MarketingSource(), number: Self.number(8), kind: .pool)
        let ended = Lease(poolID: "main", number: Self.number(7), sessionID: "s_full", visitorID: "v_full", startedAt: Self.t0,
                          lastActivityAt: Self.t0 + .seconds(5), expiresAt: Self.t0 + .seconds(600),
                          endedAt: Self.t0 + .seconds(60), shared: true)
        let open = Self.lease(8, session: "s_bare", visitor: "v_bare", start: Self.t0, expires: Self.t0 + .seconds(1200))
        try await store.apply([.session(full), .session(bare), .lease(ended), .lease(open)])

        #expect(try await store.session("s_full") == full)
        #expect(try await store.session("s_bare") == bare)
        #expect(try await store.leases(on: Self.number(7), from: Self.t0, to: Self.t0 + .seconds(3600)) == [ended])
        #expect(try await store.leases(on: Self.number(8), from: Self.t0, to: Self.t0 + .seconds(3600)) == [open])
    }

    @Test("commits sync as configured: FULL by default (survives a power cut), NORMAL when asked, also after a reopen")
    func synchronousMode() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.file("state.sqlite")
        #expect(try SQLiteStore(path: path, logger: Logger(label: "test")).writerSynchronous() == 2)
        #expect(try SQLiteStore(path: path, options: .init(synchronousFull: false), logger: Logger(label: "test")).writerSynchronous() == 1)
        #expect(try SQLiteStore(path: path, logger: Logger(label: "test")).writerSynchronous() == 2)
    }

    @Test("recovery returns live leases and each number's last release with its holder; touches extend, never shorten")
    func recovery() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let now = Self.t0 + .seconds(3600)
        var touched = Self.lease(1, session: "live", visitor: "va", start: Self.t0, expires: now + .seconds(600))
        try await store.apply([
            .lease(Self.lease(1, session: "old", visitor: "vold", start: Self.t0 - .seconds(7200), expires: Self.t0 - .seconds(5000))),
            .lease(touched),
            .lease(Self.lease(2, session: "ended", visitor: "vb", start: Self.t0, expires: now - .seconds(60))),
        ])
        // A stale touch (older expiry) arriving late must not shorten the lease.
        touched.expiresAt = now - .seconds(1)
        try await store.apply([.lease(touched)])
        let recovered = try await store.recovery(pool: "main", numbers: [Self.number(1), Self.number(2), Self.number(3)], at: now, cooldown: .seconds(900))
        #expect(recovered.liveLeases.map(\.sessionID) == ["live"])
        #expect(recovered.liveLeases.first?.expiresAt == now + .seconds(600))
        #expect(recovered.lastReleases[Self.number(2)]?.visitor == "vb")
        #expect(recovered.lastReleases[Self.number(2)]?.at == now - .seconds(60))
        #expect(recovered.lastReleases[Self.number(3)] == nil)
        #expect(try await store.previousNumber(of: "vb", site: "acme") == nil)  // no session row for vb's site
    }

    @Test("opening twice runs migrations once; a read-only file is a clear error, not a crash")
    func migrationsAndErrors() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        _ = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        do {
            _ = try SQLiteStore(path: "/nonexistent-dir/state.sqlite", logger: Logger(label: "test"))
            Issue.record("opening a file in a missing folder should fail")
        } catch {
            #expect(error.description.contains("/nonexistent-dir/state.sqlite"))
            #expect(error.description.contains("writable"))
        }
    }
}
