import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization
import Yams

/// The real `calltrackd` executable, started as a child process on an ephemeral port.
public final class DaemonProcess: Sendable {
    public let port: Int
    private let process: Process
    private let output: OutputBuffer

    /// The binary next to the test bundle (`swift build --build-tests` builds both into one folder).
    public static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("calltrackd")
    }

    /// Runs `calltrackd <arguments>` to completion; returns its exit code and combined output.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Starts `calltrackd serve --config <config>` with `CALLTRACKD_HTTP_PORT=0` and waits for its "listening" line;
    /// with `descriptorLimit`, under `ulimit -n` of that many open files.
    public init(config: String, environment: [String: String] = [:], descriptorLimit: Int? = nil) async throws {
        let process = Process()
        if let descriptorLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -n \(descriptorLimit) && exec \"$0\" \"$@\"", Self.executable.path, "serve", "--config", config]
        } else {
            process.executableURL = Self.executable
            process.arguments = ["serve", "--config", config]
        }
        var env = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        env["CALLTRACKD_HTTP_PORT"] = env["CALLTRACKD_HTTP_PORT"] ?? "0"
        // FastAGI too, when the config serves it: daemons of tests running side by side from one config (the
        // example's 127.0.0.1:4573) would otherwise compete for one port, and all but one fail to start.
        if env["CALLTRACKD_AGI_PORT"] == nil, Self.servesFastAGI(config) { env["CALLTRACKD_AGI_PORT"] = "0" }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = OutputBuffer()
        let (ports, found) = AsyncStream.makeStream(of: Int.self)
        try process.run()
        let reader = pipe.fileHandleForReading
        // A plain thread drains the child's output so it never blocks on a full pipe.
        Thread.detachNewThread {
            var reported = false
            while true {
                let data = reader.availableData
                if data.isEmpty { found.finish(); return }
                let all = output.append(String(decoding: data, as: UTF8.self))
                if !reported, let port = Self.listeningPort(in: all) {
                    reported = true
                    found.yield(port)
                }
            }
        }
        let port = try? await firstElement(ports, within: .seconds(120), waitingFor: "the daemon to say which port it listens on")
        guard let port else { throw StartFailure(output: output.text) }
        self.port = port
        self.process = process
        self.output = output
    }

    /// The child's output so far, shared with the reader thread.
    final class OutputBuffer: Sendable {
        private let storage = Mutex("")
        var text: String { storage.withLock { $0 } }
        func append(_ more: String) -> String { storage.withLock { $0 += more; return $0 } }
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

    public var log: String { output.text }
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// `kill -9`: no shutdown, no flush.
    /// Sends `signal` (e.g. SIGHUP) to the daemon.
    public func signal(_ signal: Int32) {
        Foundation.kill(process.processIdentifier, signal)
    }

    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait: the graceful path. Returns the exit code.
    @discardableResult
    public func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
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

    /// The config file has an `agi` section that is not switched off.
    static func servesFastAGI(_ config: String) -> Bool {
        guard let text = try? String(contentsOfFile: config, encoding: .utf8),
              let root = (try? Yams.load(yaml: text)) as? [String: Any], let agi = root["agi"] as? [String: Any] else { return false }
        return agi["enabled"] as? Bool ?? true
    }
}
