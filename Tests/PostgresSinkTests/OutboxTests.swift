import CallTrackCore
import Foundation
import Logging
import Store
import TestSupport
import Testing

/// A state database in a temp dir, removed afterwards.
struct TempStore {
    let directory: URL
    let path: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("state.sqlite").path
    }

    func open() throws -> SQLiteStore { try SQLiteStore(path: path, logger: Logger(label: "test.store")) }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite struct OutboxTests {
    let now = Timestamp(microsecondsSinceEpoch: 1_790_000_000_000_000)

    @Test func entriesComeOutInOrderAndSurviveAReopen() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        do {
            let outbox = Outbox(store: try temp.open(), topic: "lead")
            let ids = try await outbox.enqueue((1...5).map { (key: "call-\($0)", revision: Int64($0)) }, at: now)
            #expect(ids == ids.sorted() && Set(ids).count == 5)
        }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        let entries = try await outbox.entries(after: 0, limit: 10)
        #expect(entries.map(\.key) == (1...5).map { "call-\($0)" })
        #expect(try await outbox.entries(after: entries[1].id, limit: 2).map(\.key) == ["call-3", "call-4"])
    }

    @Test func aNewDestinationStartsAtTheNewestEntryUnlessAskedForTheBeginningAndKeepsItsCursor() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        let before = try await outbox.enqueue((1...3).map { (key: "call-\($0)", revision: 1) }, at: now)
        #expect(try await outbox.register("webhook", from: .newest, at: now) == before.last!)
        #expect(try await outbox.register("archive", from: .beginning, at: now) == 0)
        let after = try await outbox.enqueue([(key: "call-4", revision: 1)], at: now)
        #expect(try await outbox.pending(for: "webhook").map(\.id) == after, "only what came after it was added")
        #expect(try await outbox.pending(for: "archive").map(\.id) == before + after)
        // Registered again (the next start, with any start): it resumes where it was.
        try await outbox.advance("archive", through: before[1], setAside: [], at: now)
        #expect(try await outbox.register("archive", from: .newest, at: now) == before[1])
        #expect(try await outbox.cursors() == ["webhook": before.last!, "archive": before[1]])
        #expect(try await outbox.stats(for: "archive").pending == 2)
        #expect(try await outbox.stats(for: "webhook").pending == 1)
    }

    @Test func eachDestinationHasItsOwnCursorAndSetAsideEntries() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        for name in ["fast", "slow"] { _ = try await outbox.register(name, from: .newest, at: now) }
        let ids = try await outbox.enqueue((1...4).map { (key: "call-\($0)", revision: 1) }, at: now)
        try await outbox.advance("fast", through: ids[2], setAside: [(ids[1], "bad value")], at: now + .seconds(1))
        #expect(try await outbox.depth() == 4, "the slowest destination's backlog")
        let fast = try await outbox.stats(for: "fast")
        #expect(fast.pending == 1 && fast.failed == 1 && fast.oldestPendingAt == now)
        let slow = try await outbox.stats(for: "slow")
        #expect(slow.pending == 4 && slow.failed == 0 && slow.oldestPendingAt == now)
        #expect(try await outbox.pending(for: "fast").map(\.id) == [ids[3]])
        #expect(try await outbox.pending(for: "slow").map(\.id) == ids)
        let failed = try await outbox.failed(for: "fast")
        #expect(failed.map(\.entry.key) == ["call-2"] && failed.map(\.error) == ["bad value"])
        #expect(try await outbox.failed(for: "slow").isEmpty)
        // A cursor never moves back (a late, reordered update).
        try await outbox.advance("fast", through: ids[0], setAside: [], at: now)
        #expect(try await outbox.stats(for: "fast").pending == 1)
    }

    @Test func pruningRemovesOnlyOldEntriesEveryDestinationPassedAndNoneKeepsSetAside() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        #expect(try await outbox.prune(before: now + .seconds(10)) == 0, "no destination registered: nothing is known delivered")
        #expect(try await outbox.depth() == 0, "and nothing waits for anyone")
        for name in ["fast", "slow"] { _ = try await outbox.register(name, from: .newest, at: now) }
        let ids = try await outbox.enqueue((1...6).map { (key: "call-\($0)", revision: 1) }, at: now)
        try await outbox.advance("fast", through: ids[5], setAside: [(ids[0], "bad value")], at: now)
        try await outbox.advance("slow", through: ids[3], setAside: [], at: now)
        #expect(try await outbox.prune(before: now) == 0, "kept until the keep period passed")
        // ids[1...3]: both passed them; ids[0] the fast one keeps set aside; ids[4...] the slow one has not delivered.
        #expect(try await outbox.prune(before: now + .seconds(1)) == 3)
        #expect(try await outbox.entries(after: 0, limit: 10).map(\.id) == [ids[0], ids[4], ids[5]])
        #expect(try await outbox.pending(for: "slow").map(\.id) == [ids[4], ids[5]])
        #expect(try await outbox.failed(for: "fast").map(\.entry.id) == [ids[0]])
        // The slow destination goes away: nothing holds the rest back but the entry set aside.
        try await outbox.unregister("slow")
        #expect(try await outbox.prune(before: now + .seconds(1)) == 2)
        #expect(try await outbox.entries(after: 0, limit: 10).map(\.id) == [ids[0]])
    }

    @Test func aWaitingDeliveryWakesOnEnqueue() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        let woke = Task { await outbox.waitForEntries(after: 0) }
        try await outbox.enqueue([(key: "call-1", revision: 1)], at: now)
        try await within(.seconds(30), waitingFor: "the waiting delivery to wake on enqueue") { await woke.value }
        // Already newer: returns at once.
        await outbox.waitForEntries(after: 0)
    }
}
