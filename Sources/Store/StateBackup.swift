import CallTrackCore
import Foundation
import GRDB

/// Backups of the state database, and putting one back.
///
/// A backup is a consistent snapshot as of the moment it starts, taken from another process while the
/// daemon runs: SQLite's online backup copies every page in one step inside one read transaction of the
/// source, and in WAL mode the daemon's writes go on meanwhile (they land after the snapshot).
public enum StateBackup {
    /// What a backup (or a database) holds, for the person who made or restores it.
    public struct Summary: Sendable, Hashable, CustomStringConvertible {
        public var bytes: Int64
        public var sessions: Int
        public var leases: Int
        public var calls: Int
        public var leads: Int
        /// The newest session activity or lease start: what the snapshot is as of.
        public var newestActivity: Timestamp?

        public var description: String {
            let megabytes = (Double(bytes) / 1_048_576 * 10).rounded() / 10
            let asOf = newestActivity.map { " (newest activity \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: $0.secondsSinceEpoch))))" } ?? ""
            return "\(megabytes) MB: \(sessions) sessions, \(leases) leases, \(calls) calls, \(leads) leads\(asOf)"
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Copies the database at `database` into a new file at `destination` (never over an existing one), checks
    /// the copy, and returns what it holds. The copy is written beside the destination and renamed into place
    /// once complete: an interrupted backup leaves no file that looks like a backup.
    public static func backup(database: String, to destination: String) throws(Failure) -> Summary {
        guard FileManager.default.fileExists(atPath: database) else {
            throw Failure("no state database at \(database): check data.dir in the config (the daemon's own)")
        }
        guard !FileManager.default.fileExists(atPath: destination) else {
            throw Failure("\(destination) exists: a backup never overwrites a file; choose a new name")
        }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            var source = Configuration()
            source.readonly = true
            source.busyMode = .timeout(10)
            let from = try DatabaseQueue(path: database, configuration: source)
            let to = try DatabaseQueue(path: partial)
            try from.backup(to: to)
            try from.close()
            try check(to)
            let summary = try summarize(to, path: partial)
            try to.close()
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
            return summary
        } catch let failure as Failure {
            try? FileManager.default.removeItem(atPath: partial)
            throw failure
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw Failure("backup of \(database) failed: \(SQLiteStore.explain(error))")
        }
    }

    /// Puts a backup back as the database at `database`; the daemon must be stopped (the caller checks). The
    /// current database, if any, is kept beside it as `<name>.before-restore-<time>` (with its WAL), so a restore
    /// is never the end of the data it replaced. Refuses a backup that is damaged or made by a newer calltrackd.
    public static func restore(from backup: String, to database: String, at now: Timestamp) throws(Failure) -> (summary: Summary, keptAs: String?) {
        guard FileManager.default.fileExists(atPath: backup) else { throw Failure("no backup at \(backup)") }
        do {
            var readOnly = Configuration()
            readOnly.readonly = true
            let from = try DatabaseQueue(path: backup, configuration: readOnly)
            try check(from)
            let known = Set(Schema.migrator().migrations)
            let applied = try from.read { db in try Schema.migrator().appliedIdentifiers(db) }
            if let unknown = applied.subtracting(known).sorted().first {
                throw Failure("\(backup) was made by a newer calltrackd (schema step \(unknown)): restore it with that version or later")
            }
            var keptAs: String?
            if FileManager.default.fileExists(atPath: database) {
                let aside = "\(database).before-restore-\(now.microsecondsSinceEpoch / 1_000_000)"
                for suffix in ["", "-wal", "-shm"] where FileManager.default.fileExists(atPath: database + suffix) {
                    try FileManager.default.moveItem(atPath: database + suffix, toPath: aside + suffix)
                }
                keptAs = aside
            }
            let to = try DatabaseQueue(path: database)
            try from.backup(to: to)
            let summary = try summarize(to, path: database)
            try to.close()
            try from.close()
            return (summary, keptAs)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("restore from \(backup) failed: \(SQLiteStore.explain(error))")
        }
    }

    /// SQLite's quick check: a damaged file is refused rather than copied on.
    static func check(_ database: DatabaseQueue) throws {
        let result = try database.read { db in try String.fetchAll(db, sql: "PRAGMA quick_check") }
        guard result == ["ok"] else { throw Failure("the copy is damaged: \(result.prefix(3).joined(separator: "; "))") }
    }

    static func summarize(_ database: DatabaseQueue, path: String) throws -> Summary {
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0
        return try database.read { db in
            func count(_ table: String) throws -> Int {
                guard try db.tableExists(table) else { return 0 }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0
            }
            let newest = try Int64.fetchOne(db, sql: """
                SELECT max(t) FROM (SELECT max(last_activity_at) AS t FROM session UNION ALL SELECT max(started_at) FROM lease)
                """)
            return Summary(bytes: bytes, sessions: try count("session"), leases: try count("lease"), calls: try count("call"),
                           leads: try count("lead"), newestActivity: newest.map(Timestamp.init(microsecondsSinceEpoch:)))
        }
    }
}
