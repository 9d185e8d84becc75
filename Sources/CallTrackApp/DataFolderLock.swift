import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One calltrackd per data folder. `serve` holds an exclusive lock on `<data>/calltrackd.lock` for as long as it
/// runs (the kernel drops it when the process ends, however it ends), and `restore` takes it too, so a database is
/// never replaced under a running daemon. Two daemons on one SQLite file would each keep their own lease book and
/// lease one number to two visits.
public final class DataFolderLock: Sendable {
    private let descriptor: Int32

    public struct Busy: Error, CustomStringConvertible {
        public var folder: String
        public var holder: String?
        public var description: String {
            "another calltrackd runs on \(folder)\(holder.map { " (pid \($0))" } ?? ""): stop it first (systemctl stop calltrackd), or use another data.dir"
        }
    }

    /// Takes the lock, or says who holds it. The folder is created when missing.
    public init(dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = (dataDirectory as NSString).appendingPathComponent("calltrackd.lock")
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigProblem(key: "data.dir", "cannot open \(path): \(String(cString: strerror(errno))); choose a writable folder")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw Busy(folder: dataDirectory, holder: holder?.isEmpty == false ? holder : nil)
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { write(descriptor, $0, strlen($0)) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
