import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A throwaway PostgreSQL cluster for tests: `initdb` into a temp dir from the installed server
/// binaries, listening only on a Unix socket in that dir, password (SCRAM) authentication.
/// When the test process runs as root (CI does), the server runs as `nobody`, since PostgreSQL
/// refuses to run as root.
///
/// ```swift
/// let cluster = try await PostgresCluster.start()
/// defer { Task { await cluster.destroy() } }
/// let conninfo = cluster.connectionString()   // "host=/tmp/pg-… port=… user=calltrack_admin …"
/// try await cluster.stop(); try await cluster.restart()  // a PostgreSQL outage inside a test
/// ```
public final class PostgresCluster: Sendable {
    public let directory: String
    public let port: Int
    public let superuser = "calltrack_admin"
    public let password: String
    private let binaries: String
    private let runAs: String?

    private var dataDirectory: String { directory + "/data" }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    private init(directory: String, port: Int, password: String, binaries: String, runAs: String?) {
        self.directory = directory
        self.port = port
        self.password = password
        self.binaries = binaries
        self.runAs = runAs
    }

    /// Creates and starts a new cluster. `durable: false` turns fsync off (tests); benchmarks keep it on.
    public static func start(durable: Bool = false) async throws -> PostgresCluster {
        let cluster = try await initialise(durable: durable)
        do {
            try await cluster.restart()
        } catch {
            await cluster.destroy()
            throw error
        }
        return cluster
    }

    /// `initdb` and the configuration of a new cluster.
    private static func initialise(durable: Bool) async throws -> PostgresCluster {
        let binaries = try findBinaries()
        let directory = try makeTemporaryDirectory()
        let runAs: String? = getuid() == 0 ? "nobody" : nil
        let password = "pw-\(UInt64.random(in: 1...UInt64.max))"
        let cluster = PostgresCluster(
            directory: directory, port: Int.random(in: 20_000...60_000), password: password,
            binaries: binaries, runAs: runAs)
        do {
            try Data(password.utf8).write(to: URL(fileURLWithPath: directory + "/pwfile"))
            if runAs != nil { try await run("/bin/chown", ["-R", "nobody", directory]) }
            try await cluster.server("initdb", [
                "-D", cluster.dataDirectory, "-U", cluster.superuser, "--pwfile=\(directory)/pwfile",
                "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
            ])
            let conf = """
                listen_addresses = ''
                unix_socket_directories = '\(directory)'
                port = \(cluster.port)
                fsync = \(durable ? "on" : "off")
                synchronous_commit = \(durable ? "on" : "off")
                full_page_writes = \(durable ? "on" : "off")
                max_connections = 60
                shared_buffers = 64MB
                """
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: cluster.dataDirectory + "/postgresql.conf"))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(("\n" + conf + "\n").utf8))
            try handle.close()
        } catch {
            await cluster.destroy()
            throw error
        }
        return cluster
    }

    /// A libpq connection string for this cluster. Pass another user or password to test refusals.
    public func connectionString(user: String? = nil, password: String? = nil, database: String = "postgres") -> String {
        "host=\(directory) port=\(port) user=\(user ?? superuser) password=\(password ?? self.password) dbname=\(database) connect_timeout=5"
    }

    /// Starts the server (again) and waits until it accepts connections.
    public func restart() async throws {
        try await server("pg_ctl", ["-D", dataDirectory, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
    }

    /// Stops the server (fast shutdown: open connections are closed) and waits until it is down.
    public func stop() async throws {
        try await server("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "stop"])
    }

    /// Stops the server if it runs, and removes the directory.
    public func destroy() async {
        if FileManager.default.fileExists(atPath: dataDirectory + "/postmaster.pid") {
            try? await server("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs a cluster for the body and always removes it afterwards.
    public static func with<T>(durable: Bool = false, _ body: (PostgresCluster) async throws -> T) async throws -> T {
        let cluster = try await start(durable: durable)
        do {
            let result = try await body(cluster)
            await cluster.destroy()
            return result
        } catch {
            await cluster.destroy()
            throw error
        }
    }

    private func server(_ tool: String, _ arguments: [String]) async throws {
        let path = binaries + "/" + tool
        if let runAs {
            try await Self.run("/usr/sbin/runuser", ["-u", runAs, "--", path] + arguments, directory: directory)
        } else {
            try await Self.run(path, arguments, directory: directory)
        }
    }

    /// Runs a command to its end in `directory` (the server user cannot read root's working directory), its
    /// output appended to `directory/commands.log`.
    private static func run(_ path: String, _ arguments: [String], directory: String? = nil) async throws {
        let log = (directory ?? "/tmp") + "/commands.log"
        let child = try Subprocess(path, arguments, directory: directory ?? "/", output: .file(log))
        let exited = await child.exitCode()
        guard exited == 0 else {
            let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(path) \(arguments.joined(separator: " ")) failed (\(exited)): \(output.suffix(2000))")
        }
    }

    /// The newest installed server version under /usr/lib/postgresql/*/bin.
    private static func findBinaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let found = versions.compactMap(Int.init).sorted().reversed()
            .map { "\(root)/\($0)/bin" }
            .first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
        guard let found else {
            throw Failure(description: "no PostgreSQL server binaries under \(root)/*/bin: run scripts/setup (installs postgresql)")
        }
        return found
    }

    private static func makeTemporaryDirectory() throws -> String {
        // Short path: the socket path (dir + "/.s.PGSQL.<port>") must fit in 107 bytes.
        var template = Array("/tmp/ctpg-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw Failure(description: "cannot create a temp dir under /tmp") }
        let path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // The server user must reach the dir; mkdtemp makes it 0700 for us.
        chmod(path, 0o755)
        return path
    }
}
