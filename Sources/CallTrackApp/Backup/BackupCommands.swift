import CallTrackCore
import Store

/// `calltrackd backup` and `calltrackd restore`: what they do and what they print.
public enum BackupCommands {
    /// Copies the daemon's state database to `destination` (the daemon may run meanwhile).
    public static func backup(config: AppConfig, to destination: String) throws -> String {
        let summary = try StateBackup.backup(database: config.databasePath, to: destination)
        return "backed up \(config.databasePath) to \(destination): \(summary)"
    }

    /// Puts a backup back, under the data folder's lock: refused while a daemon runs on the folder.
    public static func restore(config: AppConfig, from backup: String, clock: any WallClock = SystemClock()) throws -> [String] {
        let lock = try DataFolderLock(dataDirectory: config.dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        let restored = try StateBackup.restore(from: backup, to: config.databasePath, at: clock.now())
        return (restored.keptAs.map { ["the database it replaces is kept as \($0)"] } ?? []) + [
            "restored \(config.databasePath) from \(backup): \(restored.summary)",
            "start the daemon: it brings the schema up to date and recovers the live leases",
        ]
    }
}
