import Foundation
import Testing
import TestSupport

/// schemathesis (PyPI) generates requests from docs/openapi.yaml against the real daemon: no 5xx on any
/// documented route, every answer as documented (status, content type, body schema, headers), and requests
/// that break the document are refused.
@Suite("schemathesis against the real daemon", .serialized)
struct SchemathesisTests {
    /// The checks the suite holds the daemon to. Left out, with why: `positive_data_acceptance` (the document
    /// cannot spell every rule a value must meet, such as a phone number's country code, so a request it allows
    /// may still be refused with a 400 naming the field) and `unsupported_method` (a method a path does not take
    /// answers 404 with a JSON error, as documented, not 405).
    static let checks = [
        "not_a_server_error", "status_code_conformance", "content_type_conformance", "response_schema_conformance",
        "response_headers_conformance", "negative_data_rejection",
    ]

    @Test("every documented operation: no 5xx, answers as documented, broken requests refused")
    func documentHolds() async throws {
        let dir = TemporaryDirectory("schemathesis")
        defer { dir.remove() }
        let token = "schemathesis-admin-token-0123"
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            admin: { token: "\(token)" }
            limits:
              per_ip: { burst: 1000000, per_minute: 1000000 }
              per_visitor: { burst: 1000000, per_minute: 1000000 }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main], origins: ["https://acme.example"] }
            pool:
              main: { numbers: ["+74950000001", "+74950000002", "+74950000003"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        defer { daemon.killNow() }
        let document = DeploymentFileTests.root.appendingPathComponent("docs/openapi.yaml").path
        let (status, output) = try await DeploymentFileTests.run("schemathesis", [
            "run", document, "--url", daemon.baseURL, "-H", "Authorization: Bearer \(token)",
            "--checks", Self.checks.joined(separator: ","), "--max-examples", "25", "--seed", "20261207",
            "--request-timeout", "10", "--no-color",
        ], in: URL(fileURLWithPath: dir.path))  // its cache folder goes there, not into the repository
        #expect(status != 127, "schemathesis is not installed: scripts/setup installs it (pip install schemathesis)")
        #expect(status == 0, "\(output.suffix(6000))")
        #expect(!daemon.log.contains("critical"))
    }
}
