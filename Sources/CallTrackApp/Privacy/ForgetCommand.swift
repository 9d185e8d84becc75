import CallTrackCore
import Foundation
import Logging
import Store

/// `calltrackd forget --visitor v_… | --phone +7…`: erases one person from the state database while the daemon is
/// stopped (`LeadLedger.erase`). It takes the data folder's lock, so it is refused while `serve` runs: the running
/// daemon forgets through `DELETE /v1/admin/people/{visitor}` instead (its live lease book and delivery stay in
/// step). PostgreSQL learns the erasure from the outbox at the daemon's next start.
public enum ForgetCommand {
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// What was erased, in lines for the terminal; throws `Refused` when a daemon runs or nothing is known of them.
    public static func forget(config: AppConfig, target: ErasureTarget, clock: any WallClock = SystemClock()) async throws -> [String] {
        let what = switch target {
        case .visitor(let id): "visitor \(id)"
        case .phone(let phone): "phone \(phone.e164)"
        }
        let lock: DataFolderLock
        do {
            lock = try DataFolderLock(dataDirectory: config.dataDirectory)
        } catch let busy as DataFolderLock.Busy {
            let path = switch target {
            case .visitor(let id): id
            case .phone(let phone): "phone:\(phone.e164)"
            }
            throw Refused(description: """
                calltrackd serve runs on \(busy.folder)\(busy.holder.map { " (pid \($0))" } ?? ""): forget through it, \
                DELETE /v1/admin/people/\(path) with an admin token, or stop it first
                """)
        }
        defer { withExtendedLifetime(lock) {} }
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            throw Refused(description: "no state database at \(config.databasePath): nothing is known of \(what); check data.dir")
        }
        let store = try SQLiteStore(path: config.databasePath, options: config.storage, logger: Logger(label: "calltrackd.forget"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let record: ErasureRecord
        switch try await ledger.erase(target, by: "command line", at: clock.now()) {
        case .erased(let erased):
            record = erased
        case .unknown:
            throw Refused(description: "nothing is known of \(what): nothing erased (check the spelling; a visitor id looks like v_…)")
        case .callInProgress(let since):
            throw Refused(description: """
                a call from \(what), begun at \(since.iso8601), has no end in the state database: nothing erased. \
                Start the daemon so that it learns the call's end from Asterisk, then forget through DELETE /v1/admin/people
                """)
        }
        let pending = try await ledger.outbox.depth()
        return [
            "forgot \(what): \(record.visitors) visitor id(s), \(record.sessions) visit(s), \(record.calls) call(s) and \(record.leads) lead(s) anonymised, \(record.identifiers) identifier(s) and \(record.merges) merge(s) deleted",
            "recorded as erasure \(record.id)\(record.visitorID.map { " of visitor \($0)" } ?? "") at \(record.at.iso8601)",
            config.postgres == nil ? "PostgreSQL is not configured: nothing else keeps them"
                : "PostgreSQL forgets them when the daemon next runs (\(pending) change(s) wait in the outbox)",
        ]
    }
}
