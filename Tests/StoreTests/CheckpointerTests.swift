import CallTrackCore
import Logging
@testable import Store
import Testing
import TestSupport

/// Committed pages reach the database file without a commit doing the copying, and the WAL starts again
/// instead of growing (the writer finishes each background checkpoint between two batches).
@Suite("WAL checkpoints off the commit path")
struct CheckpointerTests {
    @Test("commits are copied into the database file in the background, and the WAL then starts again from its beginning")
    func backgroundCheckpoints() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        // The test drives the checkpoints itself: the interval never comes.
        let store = try SQLiteStore(path: dir.file("state.sqlite"), options: .init(checkpointInterval: .seconds(3600)),
                                    logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }

        func write(_ range: Range<Int>) async throws {
            for index in range {
                let id = "s\(index)"
                try await store.apply([
                    .session(SQLiteStoreTests.session(id, visitor: "v\(index)", number: index, at: SQLiteStoreTests.t0)),
                    .lease(SQLiteStoreTests.lease(index, session: id, visitor: "v\(index)", start: SQLiteStoreTests.t0,
                                                  expires: SQLiteStoreTests.t0 + .seconds(1200))),
                ])
            }
        }

        try await write(0..<50)
        let first = try #require(await store.checkpointer.catchUp())
        #expect(first.walFrames >= 50, "50 commits, each at least one page")
        #expect(first.checkpointed == first.walFrames, "with no reader in the way, a passive checkpoint copies every frame")

        // The writer finished that checkpoint before its next batch: it found the WAL fully copied and
        // wrote this commit at its beginning. Fewer frames, not more.
        try await write(50..<51)
        let second = try #require(await store.checkpointer.catchUp())
        #expect(second.walFrames < first.walFrames)
        #expect(second.checkpointed == second.walFrames)
        #expect(try await store.count("lease") == 51)
    }

    @Test("at shutdown the WAL is copied once more, without the failure a cancelled task used to report")
    func lastPassAtShutdown() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), options: .init(checkpointInterval: .seconds(3600)),
                                    logger: Logger(label: "test"))
        let running = Task { await store.run() }
        for index in 0..<20 {
            try await store.apply([.session(SQLiteStoreTests.session("s\(index)", visitor: "v\(index)", number: index, at: SQLiteStoreTests.t0))])
        }
        running.cancel()
        await running.value
        #expect(store.checkpointer.failedPasses.load(ordering: .relaxed) == 0)
        #expect(try await store.count("session") == 20)
    }
}
