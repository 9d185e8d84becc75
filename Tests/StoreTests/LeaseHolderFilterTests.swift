import CallTrackCore
import Logging
@testable import Store
import Testing
import TestSupport

/// A first visit skips the previous-number read; a returning visitor is found whether or not the
/// filter has loaded, also after a restart.
@Suite("SQLite store: the lease-holder filter in front of the previous-number read")
struct LeaseHolderFilterTests {
    @Test("a returning visitor's number is found before and after the filter loads, across a restart; a stranger is ruled out")
    func returningVisitorsAreNeverRuledOut() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let t0 = SQLiteStoreTests.t0
        let first = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await first.run() }
        try await first.apply([
            .session(SQLiteStoreTests.session("s1", visitor: "va", number: 1, at: t0)),
            .lease(SQLiteStoreTests.lease(1, session: "s1", visitor: "va", start: t0, expires: t0 + .seconds(1200))),
        ])
        #expect(try await first.previousNumber(of: "va", site: "acme") == SQLiteStoreTests.number(1))
        writer.cancel()
        await writer.value

        let restarted = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        // Not loaded yet: nobody is ruled out, every allocation reads.
        #expect(restarted.mayHaveHeldLease("stranger"))
        #expect(try await restarted.previousNumber(of: "va", site: "acme") == SQLiteStoreTests.number(1))

        await restarted.loadLeaseHolders()
        #expect(restarted.mayHaveHeldLease("va"))
        #expect(!restarted.mayHaveHeldLease("stranger"))
        #expect(try await restarted.previousNumber(of: "va", site: "acme") == SQLiteStoreTests.number(1))
        #expect(try await restarted.previousNumber(of: "stranger", site: "acme") == nil)
    }

    @Test("a lease written after the filter loaded rules its visitor in at once")
    func newLeaseHoldersAreAddedOnWrite() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let t0 = SQLiteStoreTests.t0
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        await store.loadLeaseHolders()
        #expect(!store.mayHaveHeldLease("vb"))
        try await store.apply([
            .session(SQLiteStoreTests.session("s2", visitor: "vb", number: 2, at: t0)),
            .lease(SQLiteStoreTests.lease(2, session: "s2", visitor: "vb", start: t0, expires: t0 + .seconds(1200))),
        ])
        #expect(store.mayHaveHeldLease("vb"))
        #expect(try await store.previousNumber(of: "vb", site: "acme") == SQLiteStoreTests.number(2))
    }
}
