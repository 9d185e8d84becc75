import Foundation
import Testing
import TestSupport

/// HTTPS served by the daemon itself, its certificate renewed with SIGHUP and no connection dropped.
@Suite("HTTPS served directly", .serialized)
struct TLSTests {
    static func run(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, output: String) {
        try await runProgram(arguments, input: input)
    }

    /// A self-signed certificate for 127.0.0.1 with `name` as its common name.
    static func makeCertificate(_ name: String, in dir: TemporaryDirectory) async throws -> (cert: String, key: String) {
        let (cert, key) = (dir.file("\(name).pem"), dir.file("\(name).key"))
        let made = try await run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                  "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=\(name)", "-addext", "subjectAltName=IP:127.0.0.1"])
        #expect(made.status == 0, "\(made.output)")
        return (cert, key)
    }

    /// The subject of the certificate a new connection is served, and the body of GET /healthz over it.
    static func fetch(port: Int, trusting cert: String) async throws -> (subject: String, body: String) {
        let (status, output) = try await run(["curl", "-sS", "-v", "--cacert", cert, "https://127.0.0.1:\(port)/healthz"])
        #expect(status == 0, "\(output)")
        let subject = output.split(separator: "\n").first { $0.contains("subject:") }.map(String.init) ?? ""
        return (subject, output)
    }

    @Test("with http.tls the API answers over HTTPS; SIGHUP serves the renewed certificate to new connections while an open one keeps working")
    func reloadOnHangup() async throws {
        let dir = TemporaryDirectory("tls")
        defer { dir.remove() }
        let first = try await Self.makeCertificate("first", in: dir)
        let renewed = try await Self.makeCertificate("renewed", in: dir)
        let (cert, key) = (dir.file("live.pem"), dir.file("live.key"))
        try FileManager.default.copyItem(atPath: first.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: first.key, toPath: key)
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            http: { tls: { cert: "\(cert)", key: "\(key)" } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        defer { daemon.killNow() }
        #expect(daemon.log.contains("address=https://"))

        let before = try await Self.fetch(port: daemon.port, trusting: first.cert)
        #expect(before.subject.contains("CN=first"), "\(before.body)")
        #expect(before.body.contains(#"{"status":"ok"}"#))

        // A connection opened before the renewal: openssl completes its handshake (it prints the certificate's
        // subject), then sends its request only after the reload, on the same TLS session.
        let held = try HeldTLSConnection(port: daemon.port, trusting: first.cert)
        defer { held.close() }
        _ = try await within(.seconds(20), waitingFor: "the held connection's handshake") {
            while !held.output.contains("CN") { try await Task.sleep(for: .milliseconds(20)) }
            return true
        }

        try FileManager.default.removeItem(atPath: cert)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: renewed.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: renewed.key, toPath: key)
        daemon.signal(SIGHUP)
        let logged = try await within(.seconds(10), waitingFor: "the reload to be logged") {
            while !daemon.log.contains("TLS certificate reloaded") { try await Task.sleep(for: .milliseconds(20)) }
            return true
        }
        #expect(logged)
        let after = try await Self.fetch(port: daemon.port, trusting: renewed.cert)
        #expect(after.subject.contains("CN=renewed"), "\(after.body)")

        held.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        _ = try await within(.seconds(20), waitingFor: "the held connection's answer") {
            while !held.output.contains("HTTP/1.1 200") { try await Task.sleep(for: .milliseconds(20)) }
            return true
        }
        #expect(held.output.contains("CN = first") || held.output.contains("CN=first"), "\(held.output)")
    }

    @Test("a certificate that cannot be read stops the start with the key to fix; a bad one at reload keeps the one in use")
    func unreadableCertificate() async throws {
        let dir = TemporaryDirectory("tls-bad")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            http: { tls: { cert: "\(dir.file("missing.pem"))", key: "\(dir.file("missing.key"))" } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        await #expect(throws: DaemonProcess.StartFailure.self) { _ = try await DaemonProcess(config: config) }
        let start = try await DaemonProcess.run(["serve", "--config", config])
        #expect(start.status != 0)
        #expect(start.output.contains("http.tls.cert"), "\(start.output)")

        let good = try await Self.makeCertificate("good", in: dir)
        let (cert, key) = (dir.file("live.pem"), dir.file("live.key"))
        try FileManager.default.copyItem(atPath: good.cert, toPath: cert)
        try FileManager.default.copyItem(atPath: good.key, toPath: key)
        try """
            data: { dir: "\(dir.file("data"))" }
            http: { tls: { cert: "\(cert)", key: "\(key)" } }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        defer { daemon.killNow() }
        try "not a certificate".write(toFile: cert, atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        _ = try await within(.seconds(10), waitingFor: "the failed reload to be logged") {
            while !daemon.log.contains("TLS certificate not reloaded") { try await Task.sleep(for: .milliseconds(20)) }
            return true
        }
        #expect(try await Self.fetch(port: daemon.port, trusting: good.cert).subject.contains("CN=good"))
    }

    @Test("SIGHUP to a daemon without http.tls is noted, not fatal")
    func hangupWithoutTLS() async throws {
        let dir = TemporaryDirectory("hangup")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        try "data: { dir: \"\(dir.file("data"))\" }\n".write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        daemon.signal(SIGHUP)
        _ = try await within(.seconds(10), waitingFor: "the SIGHUP to be noted") {
            while !daemon.log.contains("SIGHUP: nothing to reload") { try await Task.sleep(for: .milliseconds(20)) }
            return true
        }
        let health = try await Self.run(["curl", "-sS", "http://127.0.0.1:\(daemon.port)/healthz"])
        #expect(health.output.contains(#"{"status":"ok"}"#))
        #expect(await daemon.terminate() == 0)
    }
}

/// `openssl s_client` holding one TLS connection open: its output is collected as it comes, and a request can be
/// sent on the connection later.
final class HeldTLSConnection: Sendable {
    private let process: Subprocess

    init(port: Int, trusting cert: String) throws {
        process = try Subprocess(
            "/usr/bin/env", ["openssl", "s_client", "-quiet", "-connect", "127.0.0.1:\(port)", "-CAfile", cert], stdin: true)
    }

    /// Everything openssl printed so far.
    var output: String { process.output }

    func send(_ text: String) { process.write(Data(text.utf8)) }

    func close() {
        process.closeInput()
        process.signal(SIGTERM)
    }
}
