import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Yams

/// The real `calltrackd` executable, started as a child process on an ephemeral port.
public final class DaemonProcess: Sendable {
    public let port: Int
    private let process: Subprocess

    /// The binary next to the test bundle (`swift build --build-tests` builds both into one folder).
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("calltrackd")
    }

    /// Runs `calltrackd <arguments>` to completion; returns its exit code and combined output.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        let (status, output) = try await Subprocess.run(
            executable.path, arguments, environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
        return (status, String(decoding: output, as: UTF8.self))
    }

    /// Starts `calltrackd serve --config <config>` with `CALLTRACKD_HTTP_PORT=0` and waits for its "listening" line;
    /// with `descriptorLimit`, under `ulimit -n` of that many open files.
    public init(config: String, environment: [String: String] = [:], descriptorLimit: Int? = nil) async throws {
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["CALLTRACKD_HTTP_PORT"] = env["CALLTRACKD_HTTP_PORT"] ?? "0"
        // FastAGI too, when the config serves it: daemons of tests running side by side from one config (the
        // example's 127.0.0.1:4573) would otherwise compete for one port, and all but one fail to start.
        if env["CALLTRACKD_AGI_PORT"] == nil, Self.servesFastAGI(config) { env["CALLTRACKD_AGI_PORT"] = "0" }
        let (ports, found) = AsyncStream.makeStream(of: Int.self)
        let reported = Mutex(false)
        let onOutput: @Sendable (String) -> Void = { all in
            guard let port = Self.listeningPort(in: all), reported.withLock({ was in defer { was = true }; return !was }) else { return }
            found.yield(port)
        }
        let process = if let descriptorLimit {
            try Subprocess(
                "/bin/sh", ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", Self.executable.path, "serve", "--config", config],
                environment: env, onOutput: onOutput)
        } else {
            try Subprocess(Self.executable.path, ["serve", "--config", config], environment: env, onOutput: onOutput)
        }
        // The stream ends when the daemon exits without saying where it listens.
        Task { _ = await process.exitCode(); found.finish() }
        let port = try? await firstElement(ports, within: .seconds(120), waitingFor: "the daemon to say which port it listens on")
        guard let port else {
            process.signal(SIGKILL)
            throw StartFailure(output: process.output)
        }
        self.port = port
        self.process = process
    }

    public struct StartFailure: Error, CustomStringConvertible {
        public var output: String
        public var description: String { "calltrackd did not start:\n\(output)" }
    }

    static func listeningPort(in text: String) -> Int? {
        guard let range = text.range(of: "address=http://") ?? text.range(of: "address=https://") else { return nil }
        let rest = text[range.upperBound...]
        guard let colon = rest.firstIndex(of: ":") else { return nil }
        let digits = rest[rest.index(after: colon)...].prefix { $0.isNumber }
        return Int(digits)
    }

    /// The daemon's output so far (standard output and error).
    public var log: String { process.output }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Sends `signal` (e.g. SIGHUP) to the daemon.
    public func signal(_ signal: Int32) {
        process.signal(signal)
    }

    /// `kill -9`: no shutdown, no flush; returns once the process is gone.
    public func kill() async {
        process.signal(SIGKILL)
        _ = await process.exitCode()
    }

    /// `kill -9` without waiting, for a `defer` (the process is reaped in the background).
    public func killNow() {
        process.signal(SIGKILL)
    }

    /// SIGTERM and wait: the graceful path. Returns the exit code.
    @discardableResult
    public func terminate() async -> Int32 {
        process.signal(SIGTERM)
        return await process.exitCode()
    }

    deinit {
        process.signal(SIGKILL)
    }

    /// POSTs JSON and returns the status and the decoded JSON object (nil when the daemon did not answer).
    public func post(_ path: String, _ json: String, userAgent: String = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0") async -> (status: Int, body: [String: Any])? {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(json.utf8)
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")
        request.timeoutInterval = 10
        guard let (data, http) = try? await OpenAPIConformance.data(for: request) else { return nil }
        let body = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (http.statusCode, body)
    }

    /// Sends `method` to `path` with an optional JSON body and bearer token; returns the status and the body (nil when
    /// the daemon did not answer).
    public func request(_ method: String, _ path: String, json: String? = nil, token: String? = nil) async -> (status: Int, body: Data)? {
        var request = URLRequest(url: URL(string: baseURL + path)!)
        request.httpMethod = method
        request.httpBody = json.map { Data($0.utf8) }
        if json != nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.timeoutInterval = 10
        guard let (data, http) = try? await OpenAPIConformance.data(for: request) else { return nil }
        return (http.statusCode, data)
    }

    /// The config file has an `agi` section that is not switched off.
    static func servesFastAGI(_ config: String) -> Bool {
        guard let text = try? String(contentsOfFile: config, encoding: .utf8),
              let root = (try? Yams.load(yaml: text)) as? [String: Any], let agi = root["agi"] as? [String: Any] else { return false }
        return agi["enabled"] as? Bool ?? true
    }
}
