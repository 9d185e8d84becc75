import CallTrackCore
import GRDB
import Logging
@testable import Store
import Testing
import TestSupport

/// Dealer hour buckets add up, a callback finds the miss it answers whichever is stored first, and old rows go.
@Suite("Dealer statistics in SQLite")
struct DealerStatisticsStoreTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let caller = try! PhoneNumber.e164("+78125550000")

    static func open(_ name: String) throws -> (TemporaryDirectory, SQLiteStore, DealerStatisticsStore) {
        let dir = TemporaryDirectory(name)
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        return (dir, store, DealerStatisticsStore(store: store))
    }

    static func add(_ tally: DealerTally, to store: SQLiteStore) throws {
        try store.database.write { db in try DealerStatisticsStore.add(tally, db) }
    }

    @Test("two tallies of one dealer and hour add up, times to answer included")
    func hoursAddUp() async throws {
        let (dir, store, stats) = try Self.open("dealer-hours")
        defer { dir.remove() }
        var first = DealerHour(dealer: "spb", start: Self.t)
        first.offered = 1
        first.answered = 1
        first.answerSeconds = [4]
        var second = DealerHour(dealer: "spb", start: Self.t)
        second.offered = 1
        second.missed = 1
        try Self.add(DealerTally(hours: [first]), to: store)
        try Self.add(DealerTally(hours: [second]), to: store)
        let hours = try await stats.hours(from: Self.t, to: Self.t + .seconds(3600))
        #expect(hours.count == 1)
        #expect(hours.first?.offered == 2 && hours.first?.answered == 1 && hours.first?.missed == 1 && hours.first?.answerSeconds == [4])
        #expect(try await stats.hours(from: Self.t + .seconds(3600), to: Self.t + .seconds(7200)).isEmpty)
    }

    @Test("a callback marks the miss before it; a miss stored after its callback finds it; another dealer's call does not count")
    func callbacksInEitherOrder() async throws {
        let (dir, store, stats) = try Self.open("dealer-callbacks")
        defer { dir.remove() }
        try Self.add(DealerTally(missedCall: MissedCall(callID: "m1", dealer: "spb", caller: Self.caller, missedAt: Self.t)), to: store)
        #expect(try await stats.callback(dealer: "moscow", to: Self.caller, at: Self.t + .seconds(60)) == 0)
        #expect(try await stats.callback(dealer: "spb", to: Self.caller, at: Self.t + .seconds(120)) == 1)
        // The ingest of a second miss lags behind the callback that answers it.
        let other = try PhoneNumber.e164("+78125551111")
        #expect(try await stats.callback(dealer: "spb", to: other, at: Self.t + .seconds(300)) == 0)
        try Self.add(DealerTally(missedCall: MissedCall(callID: "m2", dealer: "spb", caller: other, missedAt: Self.t + .seconds(200))), to: store)
        let misses = try await stats.missedCalls(from: Self.t, to: Self.t + .seconds(3600))
        #expect(misses.map(\.callID) == ["m1", "m2"])
        #expect(misses.map(\.calledBackAt) == [Self.t + .seconds(120), Self.t + .seconds(300)])
    }

    @Test("rows older than the period kept are dropped, newer ones stay")
    func prune() async throws {
        let (dir, store, stats) = try Self.open("dealer-prune")
        defer { dir.remove() }
        var old = DealerHour(dealer: "spb", start: Self.t)
        old.offered = 1
        var recent = DealerHour(dealer: "spb", start: Self.t + .seconds(401 * 86_400))
        recent.offered = 1
        try Self.add(DealerTally(hours: [old, recent], missedCall: MissedCall(callID: "m1", dealer: "spb", caller: Self.caller, missedAt: Self.t)),
                     to: store)
        let gone = try await stats.prune(now: Self.t + .seconds(401 * 86_400), kept: .seconds(400 * 86_400))
        #expect(gone == 2)
        #expect(try await stats.hours(from: Self.t, to: Self.t + .seconds(402 * 86_400)).map(\.start) == [recent.start])
    }
}
