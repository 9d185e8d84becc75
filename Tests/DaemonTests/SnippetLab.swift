import Foundation
import Hummingbird
import Logging
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Everything a snippet test needs, all real: the test pages on their own origin (a tiny static server),
/// the `calltrackd serve` process with a config written for them, and chromedriver driving headless Chromium.
struct SnippetLab: Sendable {
    let pages: String     // http://127.0.0.1:<port> — the website's origin
    let daemon: String    // http://127.0.0.1:<port> — calltrackd, another origin (CORS is exercised)
    let dead: String      // a port nobody listens on: the daemon down
    let driver: WebDriver
    let dir: TemporaryDirectory
    let sessions = Sessions()

    /// Browsers opened by a test, all closed before chromedriver stops (so no Chromium outlives the test).
    actor Sessions {
        var open: [BrowserSession] = []
        func add(_ session: BrowserSession) { open.append(session) }
        func quitAll() async {
            for session in open { await session.quit() }
            open = []
        }
    }

    /// The site `acme` swaps +7 495 000-00-00 for numbers of a 40-number pool; `lazy` leases only after
    /// interaction (or 10 min visible); `dwell` after 2 s visible; `brief` leases expire after 2 s idle,
    /// before the snippet's 5 s ping.
    static let adminToken = "lab-admin-token-0123456789"

    static func config(pagesOrigin: String, dataDir: String) -> String {
        let acme = (1...40).map { "\"+749500001\(String(format: "%02d", $0))\"" }.joined(separator: ", ")
        return """
            http: { host: 127.0.0.1, port: 0 }
            data: { dir: "\(dataDir)" }
            storage: { synchronous: normal }
            log: { level: info, format: text }
            limits:
              per_ip: { burst: 10000, per_minute: 10000 }
              per_visitor: { burst: 10000, per_minute: 10000 }
            snippet: { ping_interval_s: 5, hide_timeout_ms: 1500 }
            leases: { sweep_interval: 1s }
            admin: { token: "\(adminToken)" }
            sites: [acme, lazy, brief, dwell]
            site:
              acme:
                default_number: "+74950000000"
                page_numbers: ["+74950000000"]
                origins: ["\(pagesOrigin)"]
                mask: "+7 (XXX) XXX-XX-XX"
                selectors: [".phone"]
                respect_dnt: true
                pools: [acme-main]
              lazy:
                default_number: "+74950000000"
                page_numbers: ["+74950000000"]
                origins: ["\(pagesOrigin)"]
                mask: "8 (XXX) XXX-XX-XX"
                respect_dnt: true
                pools: [lazy-main]
              brief:
                default_number: "+74950000000"
                page_numbers: ["+74950000000"]
                origins: ["\(pagesOrigin)"]
                mask: "+7 (XXX) XXX-XX-XX"
                pools: [brief-main]
              dwell:
                default_number: "+74950000000"
                page_numbers: ["+74950000000"]
                origins: ["\(pagesOrigin)"]
                pools: [dwell-main]
            pool:
              acme-main:
                numbers: [\(acme)]
                cooldown: 15m
              lazy-main:
                numbers: ["+74950000201", "+74950000202", "+74950000203"]
                lease_on: interaction
                interaction_seconds: 600
              brief-main:
                numbers: ["+74950000301", "+74950000302", "+74950000303"]
                idle_ttl: 2s
              dwell-main:
                numbers: ["+74950000401", "+74950000402"]
                lease_on: interaction
                interaction_seconds: 2

            """
    }

    /// Starts the static server, the daemon and chromedriver; stops all three when `body` returns or throws.
    /// `prepare` runs on the data folder before the daemon starts (state to show, e.g. statistics).
    static func with<T: Sendable>(
        prepare: @Sendable (String) async throws -> Void = { _ in }, _ body: @Sendable (SnippetLab) async throws -> T
    ) async throws -> T {
        let dir = TemporaryDirectory("snippet")
        defer { dir.remove() }
        try FileManager.default.createDirectory(atPath: dir.file("data"), withIntermediateDirectories: true)
        try await prepare(dir.file("data"))
        let (pagesPort, server) = try await StaticPages.start(root: pagesDirectory)
        defer { server.cancel() }
        let pagesOrigin = "http://127.0.0.1:\(pagesPort)"
        try config(pagesOrigin: pagesOrigin, dataDir: dir.file("data")).write(toFile: dir.file("calltrackd.yaml"), atomically: true, encoding: .utf8)
        let daemon = try ChildProcess.start(daemonBinary, ["serve", "--config", dir.file("calltrackd.yaml")], log: dir.file("daemon.log"))
        defer { daemon.stop() }
        let daemonPort = try await daemon.waitForLog(#"127\.0\.0\.1:(\d+)\b.*calltrackd listening|calltrackd listening.*127\.0\.0\.1:(\d+)"#)
        let driverPort = try freePort()
        let driver = try ChildProcess.start(Browser.chromedriver!, ["--port=\(driverPort)"], log: dir.file("chromedriver.log"))
        defer { driver.stop() }
        _ = try await driver.waitForLog(#"(ChromeDriver was started successfully)"#)
        let lab = SnippetLab(
            pages: pagesOrigin, daemon: "http://127.0.0.1:\(daemonPort)", dead: "http://127.0.0.1:\(try freePort())",
            driver: WebDriver(base: "http://127.0.0.1:\(driverPort)"), dir: dir)
        await server.setDaemon(lab.daemon, dead: lab.dead)
        do {
            let result = try await body(lab)
            await lab.sessions.quitAll()
            return result
        } catch {
            await lab.sessions.quitAll()
            throw error
        }
    }

    /// A browser with its own fresh profile; `userAgent: nil` keeps Chromium's own (HeadlessChrome) one.
    func browser(
        userAgent: String? = Browser.desktopUserAgent, preferences: [String: any Sendable] = [:]
    ) async throws -> BrowserSession {
        let profile = dir.file("chromium-\(UUID().uuidString.prefix(8))")
        let session = try await driver.newSession(userAgent: userAgent, preferences: preferences, profile: profile)
        await sessions.add(session)
        return session
    }

    /// Opens a test page and waits until the snippet answered (or gave up).
    func load(_ browser: BrowserSession, _ page: String, waitFor condition: String = "window.calltrackd && calltrackd.ready") async throws {
        try await browser.open("\(pages)/\(page)")
        try await browser.wait(until: condition)
    }

    /// The daemon's Prometheus text, to see what it counted.
    func metrics() async throws -> String {
        String(decoding: try await daemonFile("/metrics"), as: UTF8.self)
    }

    func daemonFile(_ path: String) async throws -> Data {
        try await LoopbackHTTP.request(daemon, .get, path).body
    }

    static let pagesDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Browser/pages").path

    /// The `calltrackd` executable built beside this test bundle (`swift build` builds both).
    static var daemonBinary: String {
        if let explicit = ProcessInfo.processInfo.environment["CALLTRACKD_BIN"] { return explicit }
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        while dir.path != "/" {
            let candidate = dir.appendingPathComponent("calltrackd").path
            if FileManager.default.isExecutableFile(atPath: candidate), !candidate.hasSuffix(".xctest") { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/calltrackd").path
    }
}

/// A port that was free a moment ago (for programs that cannot report the port they bound).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw WebDriver.Failure(description: "socket() failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw WebDriver.Failure(description: "bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A child process with its output in a log file; stopped with SIGTERM, then SIGKILL.
final class ChildProcess: Sendable {
    let process: Subprocess
    let log: String

    private init(process: Subprocess, log: String) {
        self.process = process
        self.log = log
    }

    static func start(_ executable: String, _ arguments: [String], log: String) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw WebDriver.Failure(description: "\(executable) is missing: run `swift build` (or scripts/setup for chromium)")
        }
        FileManager.default.createFile(atPath: log, contents: nil)
        return ChildProcess(process: try Subprocess(executable, arguments, output: .file(log)), log: log)
    }

    /// Reads the log until `pattern` matches (its first capture group is returned as an Int, or 0), within 30 s.
    func waitForLog(_ pattern: String) async throws -> Int {
        let regex = try NSRegularExpression(pattern: pattern)
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            if let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                for group in 1..<max(1, match.numberOfRanges) {
                    if let range = Range(match.range(at: group), in: text) { return Int(text[range]) ?? 0 }
                }
                return 0
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20)) // polling a log file: there is no event to wait on
        }
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        throw WebDriver.Failure(description: "\((process.executable as NSString).lastPathComponent) did not log /\(pattern)/:\n\(text.suffix(2000))")
    }

    /// SIGTERM, and SIGKILL if it is still there 5 s later; returns at once (the process is reaped in the
    /// background), so it can stand in a `defer`.
    func stop() {
        guard process.isRunning else { return }
        process.signal(SIGTERM)
        let process = self.process
        Task {
            try? await Task.sleep(for: .seconds(5))
            process.signal(SIGKILL)
        }
    }
}

/// The website: serves Tests/Browser/pages with `{{DAEMON}}`, `{{DEAD}}` and `{{SITE}}` filled in.
actor StaticPages {
    let root: String
    var daemon = ""
    var dead = ""
    private var task: Task<Void, any Error>?

    init(root: String) { self.root = root }

    func setDaemon(_ daemon: String, dead: String) {
        self.daemon = daemon
        self.dead = dead
    }

    nonisolated func cancel() {
        Task { await self.task?.cancel() }
    }

    private func attach(_ task: Task<Void, any Error>) { self.task = task }

    static func start(root: String) async throws -> (Int, StaticPages) {
        let pages = StaticPages(root: root)
        let router = Router()
        router.get("/**") { request, _ in
            let query = request.uri.queryParameters
            return await pages.respond(path: request.uri.path, daemonDown: query["daemon"] == "down", site: query["site"].map(String.init))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "test-pages")
        logger.logLevel = .critical // cancelling the server at the end of a test logs errors
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        await pages.attach(Task { try await app.runService(gracefulShutdownSignals: []) })
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw WebDriver.Failure(description: "test page server did not start") }
        return (port, pages)
    }

    /// `?daemon=down` serves a page as if the daemon were down (its script tag points nowhere);
    /// `?site=<id>` fills `{{SITE}}` (default `acme`).
    func respond(path: String, daemonDown: Bool, site: String?) -> Response {
        let name = path == "/" ? "demo.html" : String(path.drop { $0 == "/" })
        guard !name.contains(".."), let data = FileManager.default.contents(atPath: "\(root)/\(name)") else {
            return Response(status: .notFound)
        }
        var text = String(decoding: data, as: UTF8.self)
        text = text.replacingOccurrences(of: "{{DAEMON}}", with: daemonDown ? dead : daemon).replacingOccurrences(of: "{{DEAD}}", with: dead)
            .replacingOccurrences(of: "{{SITE}}", with: (site ?? "").filter { $0.isLetter || $0 == "-" }.nonEmpty ?? "acme")
        let type = name.hasSuffix(".js") ? "application/javascript; charset=utf-8" : "text/html; charset=utf-8"
        return Response(
            status: .ok, headers: [.contentType: type, .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
