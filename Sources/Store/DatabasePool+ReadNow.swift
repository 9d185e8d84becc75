import CallTrackCore
import GRDB

extension DatabasePool {
    /// A read on the calling thread, outside a transaction: no hop to a reader queue and back, which on
    /// an idle machine costs more than the read itself (two thread wake-ups, ~0.4 ms measured). For
    /// reads of one statement, which need no snapshot; `failure` says what could not be read.
    ///
    /// The allocation path reads on the reader pool instead (`read`, async), the lead path inside its write
    /// transaction on the writer's thread: this runs on whatever thread calls it, an event loop included. Left for `Outbox.pending` only, which moves off it with the outbox's rewrite.
    func readNow<T>(_ failure: String, _ body: (Database) throws -> T) throws(StoreUnavailable) -> T {
        do { return try unsafeRead(body) } catch {
            throw StoreUnavailable("\(failure): \(SQLiteStore.explain(error))")
        }
    }
}
