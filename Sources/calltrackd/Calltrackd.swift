import ArgumentParser
import CallTrackApp
import Foundation
import HTTPAPI
import NIOCore
import NIOPosix

@main
enum Entry {
    static func main() async {
        // Tasks run on the NIO event loops that also do the HTTP I/O: no thread hop per request
        // (about 1.7× the durable allocations/s of the default executor on this 2-core machine).
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Calltrackd.main()
    }
}

struct Calltrackd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calltrackd",
        abstract: "Call tracking for your own Asterisk: leases tracking numbers to website visits and tells which visit and advert brought each call.",
        discussion: """
            Start with `calltrackd serve --config deploy/calltrackd.example.yaml`: SQLite state in ./data, HTTP on 127.0.0.1:8080.
            Every config key can be overridden by an environment variable: http.port -> CALLTRACKD_HTTP_PORT.
            """,
        version: CalltrackdVersion.current,
        subcommands: [Serve.self, CheckConfig.self, Leads.self, PoolSize.self, NewToken.self, Backup.self, Restore.self, Version.self],
        defaultSubcommand: nil
    )
}

struct ConfigOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The YAML config file (default: $CALLTRACKD_CONFIG).")
    var config: String?

    var file: String? { config ?? ProcessInfo.processInfo.environment["CALLTRACKD_CONFIG"] }

    func load() async throws -> AppConfig {
        do {
            return try await ConfigLoader.load(file: file, environment: ProcessInfo.processInfo.environment)
        } catch let problem as ConfigProblem {
            throw ValidationError(problem.description)
        }
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon until SIGTERM or SIGINT (finishes in-flight requests and flushes the store first).")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try await options.load()
        let (logger, registry) = ProcessSetup.bootstrap(format: config.logFormat, level: config.logLevel)
        if config.sites.isEmpty {
            logger.warning("no site configured: the API answers 404 until you add one to the config file or through the admin API")
        }
        do {
            let lock = try DataFolderLock(dataDirectory: config.dataDirectory)
            let daemon = try await Daemon.open(config: config, registry: registry, logger: logger)
            try await daemon.run()
            withExtendedLifetime(lock) {}
        } catch {
            logger.critical("calltrackd cannot run", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Validate the config file and environment overrides without starting; prints a summary.")

    @OptionGroup var options: ConfigOption

    func run() async throws {
        let config = try await options.load()
        print("config OK: \(config.sites.count) site(s), HTTP on \(config.httpHost):\(config.httpPort), state in \(config.databasePath)")
        for token in config.api.tokens { print("  token \(token.name): scope \(token.scope.rawValue)") }
        for site in config.sites {
            let pools = site.pools.map { "\($0.id) (\($0.numbers.count) numbers, \($0.policy.onExhaustion.rawValue) when full)" }
            print("  site \(site.id): default \(site.defaultNumber), pools: \(pools.isEmpty ? "none" : pools.joined(separator: ", ")), static numbers: \(site.staticNumbers.count)")
        }
    }
}

struct NewToken: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-token",
        abstract: "Make a random admin API token and print the config lines that accept it (only its SHA-256 is kept).")

    @Option(help: "The token's name: logs and audit records name it instead of the secret.") var name: String
    @Option(help: "admin (everything), read (calls, leads, pools, sites) or connector (identity links).") var scope: String

    func validate() throws {
        guard TokenScope(rawValue: scope) != nil else { throw ValidationError("--scope must be admin, read or connector") }
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw ValidationError("--name must be letters, digits, - or _, e.g. grafana or crm-sync")
        }
    }

    func run() {
        print(TokenLines(name: name, scope: TokenScope(rawValue: scope)!).text)
    }
}

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the state database into a new file, consistent as of the moment the copy starts; the daemon may keep running.",
        discussion: "deploy/calltrackd-backup.timer runs it nightly. Put a backup back with `calltrackd restore`.")

    @OptionGroup var options: ConfigOption
    @Option(help: "The backup file to write (never overwritten).") var to: String

    func run() async throws {
        let config = try await options.load()
        print("backing up \(config.databasePath) …")
        do {
            print(try BackupCommands.backup(config: config, to: to))
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup back as the state database; the daemon must be stopped. The database it replaces is kept beside it.")

    @OptionGroup var options: ConfigOption
    @Option(help: "The backup file `calltrackd backup` wrote.") var from: String

    func run() async throws {
        let config = try await options.load()
        do {
            for line in try BackupCommands.restore(config: config, from: from) { print(line) }
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

struct Leads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the latest leads kept in the daemon's SQLite state (works with or without PostgreSQL).")

    @OptionGroup var options: ConfigOption
    @Option(help: "How many leads, newest first.") var limit = 20
    @Flag(help: "Print each lead as JSON, as GET /v1/admin/leads shows it.") var json = false

    func run() async throws {
        let config = try await options.load()
        for line in try await LeadListing.lines(config: config, limit: limit, json: json) { print(line) }
    }
}

struct PoolSize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool-size",
        abstract: "How many numbers a pool needs for a load, by Erlang B (no data needed).",
        discussion: """
            The load in erlangs is visits per hour × hours a number stays held (the lease and its cooldown):
            120 visits an hour holding a number 20 minutes plus a 15-minute cooldown offer 120 × 35/60 = 70 erlangs.
            """)

    @Option(help: "Offered load in erlangs.") var load: Double
    @Option(help: "Highest acceptable chance that a visit finds the pool full (0.01 = 1%).") var target = 0.01
    @Flag(help: "Print JSON: {\"pool_size\": N, …}.") var json = false

    func validate() throws {
        guard load >= 0, load.isFinite, load <= 1_000_000 else { throw ValidationError("--load must be erlangs from 0 to 1000000, e.g. 70") }
        guard target > 0, target < 1 else { throw ValidationError("--target must be a probability between 0 and 1, e.g. 0.01 for 1%") }
    }

    func run() {
        let answer = PoolSizeAnswer(load: load, target: target)
        print(json ? answer.json : answer.text)
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() { print(CalltrackdVersion.current) }
}

