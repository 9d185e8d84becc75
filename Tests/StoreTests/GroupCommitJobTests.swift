import CallTrackCore
import Dispatch
import Foundation
import GRDB
import Logging
import Synchronization
@testable import Store
import Testing
import TestSupport

/// Lead changes join the lease writes' group commit: what arrives together shares one transaction and one
/// fsync, and a lead change that fails rolls back only itself.
@Suite("Group commit with jobs")
struct GroupCommitJobTests {
    struct Refused: Error {}
    final class Flag: Sendable { let value = Atomic<Bool>(false) }

    static func session(_ id: String, at t: Timestamp) -> SessionRecord {
        SessionRecord(id: id, visitorID: "v_\(id)", siteID: "acme", startedAt: t, lastActivityAt: t,
                      source: MarketingSource(utmSource: "google"), number: try! PhoneNumber.e164("+74950000001"), kind: .pool)
    }

    @Test("jobs and writes queued together commit in one transaction; a failing job rolls back only itself")
    func jobsShareTheBatch() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        defer { writer.cancel() }
        let committer = store.committer
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        try await store.apply([])  // the writer thread runs
        let before = store.committedTransactions

        // Holds the writer inside a transaction until every other change is queued behind it.
        let gate = DispatchSemaphore(value: 0)
        let entered = Flag()
        let blocker = Task {
            try await committer.perform { _ in
                entered.value.store(true, ordering: .sequentiallyConsistent)
                gate.wait()
            }
        }
        try await within(.seconds(10), waitingFor: "the writer to take the blocking job") {
            while !entered.value.load(ordering: .sequentiallyConsistent) { try await Task.sleep(for: .milliseconds(1)) }
        }
        let outcomes = Task {
            try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let id = "job_\(index)"
                        do {
                            try await committer.perform { db in
                                try StateWriter.apply([.session(Self.session(id, at: t0))], sticky: StickyDealerIndex(), in: db)
                                if index == 7 { throw Refused() }
                            }
                            return (id, true)
                        } catch is Refused {
                            return (id, false)
                        }
                    }
                    group.addTask {
                        try await store.apply([.session(Self.session("write_\(index)", at: t0))])
                        return ("write_\(index)", true)
                    }
                }
                return try await group.reduce(into: [String: Bool]()) { $0[$1.0] = $1.1 }
            }
        }
        try await within(.seconds(10), waitingFor: "80 changes queued behind the blocking job") {
            while committer.waitingCount < 80 { try await Task.sleep(for: .milliseconds(1)) }
        }
        gate.signal()
        try await blocker.value
        let results = try await within(.seconds(10), waitingFor: "the batch to commit") { try await outcomes.value }

        #expect(store.committedTransactions == before + 2, "the blocking job's transaction, then one for all 80 changes")
        #expect(results.count == 80)
        #expect(results.filter { !$0.value }.map(\.key) == ["job_7"], "only the failing job reports a failure")
        #expect(try await store.session("job_7") == nil, "its write was rolled back with its savepoint")
        #expect(try await store.session("job_8") != nil)
        #expect(try await store.session("write_39") != nil)
        #expect(try await store.count("session") == 79)
    }

    @Test("a job before the writer runs gets a transaction of its own instead of waiting for a writer that never comes")
    func jobBeforeTheWriterRuns() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let stored = try await within(.seconds(10), waitingFor: "a job with no writer running") {
            try await store.committer.perform { db in
                try StateWriter.apply([.session(Self.session("early", at: t0))], sticky: StickyDealerIndex(), in: db)
                return "done"
            }
        }
        #expect(stored == "done")
        #expect(try await store.session("early") != nil)
    }
}
