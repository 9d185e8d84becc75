import ArgumentParser
import CallTrackApp
import Foundation
import CallTrackCore
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
        subcommands: [Serve.self, CheckConfig.self, Leads.self, Route.self, Dealers.self, Export.self, Report.self, Costs.self, Stats.self, PoolSize.self, Simulate.self, NewToken.self, Backup.self, Restore.self, Forget.self, Webhooks.self, GA4.self, Version.self],
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
        for hook in config.webhooks {
            print("  webhook \(hook.id): \(hook.url) for site(s) \(hook.sites.sorted().joined(separator: ", ")), dead letter after \(hook.deadLetterAfter) failed attempts")
        }
        for property in config.ga4 {
            let kinds = property.matchKinds.map(\.rawValue).sorted().joined(separator: ", ")
            let value = property.callValue.map { ", value \($0.decimal) \($0.currency)" } ?? ""
            print("  ga4 \(property.id): \(property.redactedURL) for site(s) \(property.sites.sorted().joined(separator: ", ")), events \(property.callEvent) (calls matched \(kinds)\(value)) and \(property.wonEvent) (won deals)")
        }
        for site in config.sites {
            let pools = site.pools.map { "\($0.id) (\($0.numbers.count) numbers, \($0.policy.onExhaustion.rawValue) when full)" }
            print("  site \(site.id): default \(site.defaultNumber), pools: \(pools.isEmpty ? "none" : pools.joined(separator: ", ")), static numbers: \(site.staticNumbers.count)")
        }
    }
}

struct Stats: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per pool: the numbers its busiest hour needs (Erlang B), how full it ran, collisions, late calls; from the daemon's stored statistics.")

    @OptionGroup var options: ConfigOption
    @Option(help: "Days back from now.") var days = 7
    @Flag(help: "One JSON summary a line.") var json = false

    func run() async throws {
        let config = try await options.load()
        for line in try await StatsListing.lines(config: config, days: days, now: SystemClock().now(), json: json) { print(line) }
    }
}

struct Dealers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per dealer: calls offered, answered, missed, busy, abandoned, time to answer, talk time, leads, junk, missed and not called back, and the weight its answer rate suggests.")

    @OptionGroup var options: ConfigOption
    @Option(help: "Days back from now.") var days = 7
    @Flag(help: "The JSON of GET /v1/admin/dealers/stats.") var json = false

    func run() async throws {
        let config = try await options.load()
        for line in try await DealerListing.lines(config: config, days: days, now: SystemClock().now(), json: json) { print(line) }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Files for web analytics' offline-conversion uploads, made from the leads.",
        subcommands: [Metrica.self])

    struct Metrica: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Yandex Metrica's offline conversions CSV of one day's leads, or with --won its won deals (UTC): ClientId (the visit's _ym_uid), Target, DateTime, Price, Currency.",
            discussion: "The same file as GET /v1/admin/exports/metrica-conversions?date=…[&kind=won]; upload it under Goals → Offline conversions.")

        @OptionGroup var options: ConfigOption
        @Option(help: "The day, YYYY-MM-DD (UTC).") var date: String
        @Flag(help: "The deals the CRM reported won that day, with their amounts, instead of the calls.") var won = false
        @Option(help: "The Metrica goal the conversions count toward (default: call, or won with --won).") var target: String?
        @Option(help: "The folder to write metrica-conversions-<date>.csv (metrica-won-deals-<date>.csv) into.") var to = "."

        func run() async throws {
            let config = try await options.load()
            do {
                for line in try await ConversionExport.metrica(config: config, date: date, won: won, target: target ?? (won ? "won" : "call"), folder: to) { print(line) }
            } catch let refused as ConversionExport.Refused {
                throw ValidationError(refused.description)
            }
        }
    }
}

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive the real allocator and matcher with synthetic traffic of known truth, for a range of pool sizes.",
        discussion: """
            Reports per pool size the calls credited to the wrong visit (or none), exhaustion at the busiest hour beside
            Erlang B's prediction, collisions and late calls, and the smallest pool meeting --target-error.
            With --from-stats the visits are a pool's own, hour by hour as the daemon measured them over the last --days
            (its state database, from --config), visits as long as its measured leases, under its configured policy;
            the other traffic options still apply, and the policy options override the pool's.
            """)

    @OptionGroup var options: ConfigOption
    @Flag(help: "Replay a pool's measured visits per hour and lease length (needs --config; see --site, --pool, --days).") var fromStats = false
    @Option(help: "With --from-stats: the site whose pool to replay.") var site: String?
    @Option(help: "With --from-stats: the pool to replay (may be omitted when the config, or --site, has one).") var pool: String?
    @Option(help: "Visits a day (bots included).") var visitsPerDay = 2_000.0
    @Option(help: "Share of human visits that call (default 0.03; with --from-stats the measured share when calls were recorded).") var callShare: Double?
    @Option(help: "Median delay from the visit's start to the call, e.g. 4m.") var callDelay = "4m"
    @Option(help: "Median visit length, e.g. 3m.") var sessionLength = "3m"
    @Option(help: "Share of callers who call again 7-30 days later.") var repeatShare = 0.1
    @Option(help: "Share of visits by bots.") var botShare = 0.05
    @Option(help: "The pool's idle TTL and cooldown (default 20m and 15m; with --from-stats the pool's own).") var idleTtl: String?
    @Option var cooldown: String?
    @Option(help: "What a full pool does: fallback (the default number) or share (a number two visits hold).") var onExhaustion: String?
    @Option(help: "Simulated days per pool size (with --from-stats: the days of history replayed, up to the last whole hour).") var days = 7
    @Option(help: "Pool sizes to try, comma-separated (default: around Erlang B's 1% pool).") var sizes: String?
    @Option(help: "Highest acceptable share of calls not credited to the visit that made them.") var targetError = 0.01
    @Option(help: "Random seed: the same seed gives the same run.") var seed: UInt64 = 1
    @Flag(help: "Print JSON.") var json = false
    @Flag(help: "Print CSV (one row per pool size).") var csv = false

    func duration(_ text: String, _ option: String) throws -> Duration {
        guard let value = DurationText.parse(text), value > .zero else { throw ValidationError("--\(option) must be a duration such as 4m or 90s") }
        return value
    }

    func validate() throws {
        guard days >= 1 else { throw ValidationError("--days must be at least 1") }
        if !fromStats, site != nil || pool != nil { throw ValidationError("--site and --pool pick the pool --from-stats replays: add --from-stats") }
    }

    func run() async throws {
        var profile = TrafficProfile(
            visitsPerDay: visitsPerDay, sessionMedian: try duration(sessionLength, "session-length"), callShare: callShare ?? 0.03,
            callDelayMedian: try duration(callDelay, "call-delay"), repeatShare: repeatShare, botShare: botShare)
        var policy = PoolPolicy()
        var measured: MeasuredTraffic?
        if fromStats {
            let config = try await options.load()
            do {
                let replay = try await StatsReplay.load(config: config, site: site, pool: pool, days: days, now: SystemClock().now())
                measured = replay.measured
                // The pool's policy, without its segment rule and lease trigger: the measured visits are the ones
                // that already passed them.
                policy = PoolPolicy(idleTTL: replay.pool.policy.idleTTL, maxAge: replay.pool.policy.maxAge,
                                    cooldown: replay.pool.policy.cooldown, onExhaustion: replay.pool.policy.onExhaustion)
            } catch let problem as StatsReplay.Problem {
                throw ValidationError(problem.description)
            }
        }
        if let idleTtl { policy.idleTTL = try duration(idleTtl, "idle-ttl") }
        if let cooldown { policy.cooldown = try duration(cooldown, "cooldown") }
        if let onExhaustion {
            guard let exhaustion = ExhaustionPolicy(rawValue: onExhaustion) else { throw ValidationError("--on-exhaustion must be fallback or share") }
            policy.onExhaustion = exhaustion
        }
        if let measured {
            profile = measured.profile(policy: policy, base: profile)
            if let callShare { profile.callShare = callShare }
        }
        let sizes = try sizes.map { list in
            try list.split(separator: ",").map { item -> Int in
                guard let size = Int(item.trimmingCharacters(in: .whitespaces)), size > 0 else { throw ValidationError("--sizes: '\(item)' is not a pool size") }
                return size
            }
        }
        let simulator = PoolSimulator(profile: profile, policy: policy, days: measured?.days ?? days, seed: seed)
        var report = SimulationReport(simulator: simulator, targetError: targetError, measured: measured)
        let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1)
        report.run(sizes: sizes) { bar.show($0) }
        bar.finish()
        print(json ? report.json : csv ? report.csv : report.text)
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

struct Forget: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Forget one person: their identifiers, visits' personal fields, caller numbers and names, across every merged device; anonymous counts stay.",
        discussion: """
            Runs against the data folder while the daemon is stopped; while `calltrackd serve` runs, use DELETE /v1/admin/people/{visitor}
            (or /v1/admin/people/phone:+7…) with an admin token. The erasure is recorded (when, which visitor id, by whom) without the erased data;
            PostgreSQL forgets them when the daemon next delivers. Example: calltrackd forget --phone "+7 916 123-45-67"
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "A visitor id (v_…): the whole person, every device and cookie merged with it.") var visitor: String?
    @Option(help: "A phone number in any usual spelling: its calls, and the person it is bound to.") var phone: String?

    func validate() throws {
        guard (visitor == nil) != (phone == nil) else { throw ValidationError("name the person by exactly one of --visitor or --phone") }
    }

    func run() async throws {
        let config = try await options.load()
        let target: ErasureTarget
        if let phone {
            do { target = .phone(try PhoneNumber.parse(phone, defaultCountry: config.country)) } catch {
                throw ValidationError("--phone '\(phone)' is not a phone number (\(error))")
            }
        } else {
            target = .visitor(visitor!)
        }
        do {
            for line in try await ForgetCommand.forget(config: config, target: target) { print(line) }
        } catch let refused as ForgetCommand.Refused {
            throw ValidationError(refused.description)
        }
    }
}

struct GA4: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ga4",
        abstract: "Per GA4 property: changes waiting (cursor lag), dead letters, and the conversions sent and skipped (with why), from the state database (the daemon may run).")

    @OptionGroup var options: ConfigOption
    @Flag(help: "One JSON object per property a line.") var json = false

    func run() async throws {
        let config = try await options.load()
        for line in try await GA4Commands.status(config: config, now: SystemClock().now(), json: json) { print(line) }
    }
}

struct Webhooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per webhook endpoint: changes waiting (cursor lag), the oldest one's age, dead letters and the last one's error.",
        subcommands: [WebhookStatus.self, WebhookReplay.self],
        defaultSubcommand: WebhookStatus.self)
}

struct WebhookStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status", abstract: "Each endpoint's cursor lag and dead letters, from the state database (the daemon may run).")

    @OptionGroup var options: ConfigOption
    @Flag(help: "One JSON object per endpoint a line.") var json = false

    func run() async throws {
        let config = try await options.load()
        for line in try await WebhookCommands.status(config: config, now: SystemClock().now(), json: json) { print(line) }
    }
}

struct WebhookReplay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send an endpoint its lead changes since a time again, dead letters included.",
        discussion: """
            While the daemon runs, it is asked through its admin API (admin.token, http.port from the config): the endpoint's
            delivery moves back between two batches. With the daemon stopped, they go at its next start. Only changes still in the
            outbox go again: delivered ones are kept 7 days, dead letters until replayed. Receivers drop what they have by
            delivery_id or lead_version. Example: calltrackd webhooks replay --endpoint crm --since 2026-12-07T10:00:00Z
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The endpoint's id (webhook.<id> in the config).") var endpoint: String
    @Option(help: "An ISO 8601 time (2026-12-07T10:00:00Z) or a span back from now (2h, 3d).") var since: String

    func run() async throws {
        let config = try await options.load()
        let now = SystemClock().now()
        guard let from = WebhookCommands.parseSince(since, now: now) else {
            throw ValidationError("--since '\(since)' is neither an ISO 8601 time (2026-12-07T10:00:00Z) nor a span back (2h, 3d)")
        }
        do {
            for line in try await WebhookCommands.replay(config: config, endpoint: endpoint, since: from, now: now) { print(line) }
        } catch let refused as WebhookCommands.Refused {
            throw ValidationError(refused.description)
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

struct Route: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "What-if: which dealer the configured rules pick for a caller on a site at a time, the failover list, and why.",
        discussion: """
            The dealers are the config file's with the admin API's changes, and the caller's sticky dealer is the one their \
            last lead went to, both read from the state database when there is one. Nothing busy, a fresh round robin, \
            nothing held or stored. Example: calltrackd route --site acme --caller +74951234567 --at 2026-12-08T10:00+03:00
            """)

    @OptionGroup var options: ConfigOption
    @Option(help: "The site id.") var site: String
    @Option(help: "The caller's number (omit for a withheld caller).") var caller: String?
    @Option(help: "When the call comes, ISO 8601 with its offset (default: now).") var at: String?
    @Option(help: "The dealer who handled this caller before (default: the one their last lead went to).") var sticky: String?
    @Flag(help: "Print the decision as JSON.") var json = false

    func run() async throws {
        let config = try await options.load()
        do {
            let answer = try await RouteWhatIf.answer(config: config, site: site, caller: caller, at: at, sticky: sticky)
            print(json ? answer.json : answer.text)
        } catch let problem as RouteAnswer.Problem {
            throw ValidationError(problem.description)
        }
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

