import CallTrackCore
import GRDB

extension DatabasePool {
    /// A read on the calling thread, outside a transaction: no hop to a reader queue and back, which on
    /// an idle machine costs more than the read itself (two thread wake-ups, ~0.4 ms measured). For
    /// reads of one statement, which need no snapshot; `failure` says what could not be read.
    func readNow<T>(_ failure: String, _ body: (Database) throws -> T) throws(StoreUnavailable) -> T {
        do { return try unsafeRead(body) } catch {
            throw StoreUnavailable("\(failure): \(SQLiteStore.explain(error))")
        }
    }

    /// Several statements on the calling thread, in one read transaction (one snapshot).
    func readSnapshotNow<T>(_ failure: String, _ body: (Database) throws -> T) throws(StoreUnavailable) -> T {
        do { return try read(body) } catch {
            throw StoreUnavailable("\(failure): \(SQLiteStore.explain(error))")
        }
    }
}
