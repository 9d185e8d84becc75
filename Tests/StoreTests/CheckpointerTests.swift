import CallTrackCore
import Logging
@testable import Store
import Testing
import TestSupport

/// Committed pages reach the database file without a commit doing the copying, and the WAL starts again
/// instead of growing.
@Suite("WAL checkpoints off the commit path")
struct CheckpointerTests {
    @Test("commits are copied into the database file in the background, and the WAL then starts again from its beginning",
          .timeLimit(.minutes(1)))
    func backgroundCheckpoints() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        var reports = store.checkpointer.completed.makeAsyncIterator()

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
        /// The next checkpoint that found frames to copy (an idle store reports nothing new).
        func nextCopy() async throws -> (walFrames: Int, checkpointed: Int) {
            while let report = await reports.next() { if report.walFrames > 0 { return report } }
            throw CancellationError()
        }

        try await write(0..<50)
        let first = try await nextCopy()
        #expect(first.checkpointed == first.walFrames, "a passive checkpoint of an idle WAL copies every frame")

        // The writer finds its WAL fully copied and writes from the beginning again: fewer frames, not more.
        try await write(50..<51)
        let second = try await nextCopy()
        #expect(second.walFrames < first.walFrames)
        #expect(second.checkpointed == second.walFrames)
        #expect(try await store.count("lease") == 51)
    }
}
