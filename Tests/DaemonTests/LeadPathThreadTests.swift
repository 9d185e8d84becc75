import CallTrackApp
import CallTrackCore
import GRDB
import Logging
import NIOPosix
import Store
import Testing
import TestSupport

/// The daemon runs every task on the NIO event loops that serve HTTP: a SQLite statement run there stalls every
/// connection of that loop. The lead path's reads and writes run on the store's own threads, and the loop only
/// awaits them.
@Suite("Lead path: no SQLite on the event loop that handles a call")
struct LeadPathThreadTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test("ringing, a repeat by the same caller, then the first call ends junk: every statement ran off the event loop", .timeLimit(.minutes(1)))
    func leadPathStaysOffTheEventLoop() async throws {
        let dir = TemporaryDirectory("lead-threads")
        defer { dir.remove() }
        let onLoop = Locked<[String]>([])
        let offLoop = Locked(0)
        var options = SQLiteStore.Options()
        // Each statement is reported on the thread that runs it.
        options.prepareConnection = { db in
            db.trace { event in
                if MultiThreadedEventLoopGroup.currentEventLoop != nil {
                    onLoop.withLock { $0.append("\(event)") }
                } else {
                    offLoop.withLock { $0 += 1 }
                }
            }
        }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), options: options, logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let number = try PhoneNumber.e164("+74950000001")
        let caller = try PhoneNumber.e164("+79161234567")
        let site = Site(id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"), pools: [Pool(id: "main", numbers: [number])])
        // A visit holding the number when the first call rings: the call matches it, so every read of the lead
        // path runs (leases, the caller's visitor, the person, the journey, open leads).
        let session = SessionRecord(id: "s1", visitorID: "v1", siteID: "acme", startedAt: Self.t - .seconds(300),
                                    lastActivityAt: Self.t - .seconds(10), source: MarketingSource(utmSource: "google"),
                                    number: number, kind: .pool)
        let lease = Lease(poolID: "main", number: number, sessionID: "s1", visitorID: "v1", startedAt: Self.t - .seconds(300),
                          lastActivityAt: Self.t - .seconds(10), expiresAt: Self.t + .seconds(900))
        try await store.apply([.session(session), .lease(lease)])
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let desk = LeadDesk(book: LeaseBook(sites: [site]), store: store, ledger: ledger, settings: LeadRules(),
                            clock: ManualClock(at: Self.t + .seconds(600)), logger: Logger(label: "test"))

        func ringing(_ id: String, at start: Timestamp) -> CallRecord {
            CallRecord(id: id, revision: 1, trackingNumber: number, dialled: "74950000001", caller: caller,
                       callerRaw: caller.e164, callerWithheld: false, startedAt: start)
        }
        let first = ringing("c1", at: Self.t)
        let second = ringing("c2", at: Self.t + .seconds(60))
        var ended = first  // answered, hung up after 3 s of talk: junk
        ended.revision = 3
        ended.answeredAt = Self.t + .seconds(5)
        ended.endedAt = Self.t + .seconds(8)
        ended.disposition = "answered"
        ended.talkSeconds = 3
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let before = offLoop.value
        let ranOnLoop = await withTaskExecutorPreference(EventLoopTaskExecutor(loops.next())) {
            let ranOnLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            await desk.handle(first)
            await desk.handle(second)
            await desk.handle(ended)
            return ranOnLoop
        }
        try await loops.shutdownGracefully()
        #expect(ranOnLoop, "the calls were handled from an event loop, as the daemon handles them")
        #expect(onLoop.value.isEmpty, "SQLite statements ran on the event loop: \(onLoop.value.prefix(5))")
        #expect(offLoop.value > before, "the statements were traced")
        // The path did its work: the first call turned junk and took its repeat with it.
        let c1 = try #require(try await ledger.lead("c1")?.lead)
        let c2 = try #require(try await ledger.lead("c2")?.lead)
        #expect(c1.match.kind == .exact && c1.junkReason == .shortTalk)
        #expect(c2.repeatOf == nil && c2.isLead, "the repeat of a junk lead is decided again")
    }
}
