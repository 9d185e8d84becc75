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
        let pending = try await outbox.pending(after: 0, limit: 10)
        #expect(pending.map(\.key) == (1...5).map { "call-\($0)" })
        #expect(try await outbox.pending(after: pending[1].id, limit: 2).map(\.key) == ["call-3", "call-4"])
    }

    @Test func deliveredAndFailedEntriesLeaveThePendingQueueAndOnlyDeliveredArePruned() async throws {
        let temp = try TempStore()
        defer { temp.remove() }
        let outbox = Outbox(store: try temp.open(), topic: "lead")
        let ids = try await outbox.enqueue((1...4).map { (key: "call-\($0)", revision: 1) }, at: now)
        try await outbox.markFailed(ids[1], error: "bad value", at: now)
        try await outbox.markDelivered(after: 0, through: ids[2], at: now + .seconds(1))
        let stats = try await outbox.stats()
        #expect(stats.pending == 1 && stats.failed == 1 && stats.oldestPendingAt == now)
        #expect(try await outbox.pending(after: 0, limit: 10).map(\.id) == [ids[3]])
        #expect(try await outbox.prune(deliveredBefore: now + .seconds(1)) == 0, "kept until the retention passed")
        #expect(try await outbox.prune(deliveredBefore: now + .seconds(2)) == 2)
        let failed = try await outbox.failed()
        #expect(failed.map(\.entry.key) == ["call-2"] && failed.map(\.error) == ["bad value"])
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
