import CallTrackApp
import Destinations
import Foundation
import Testing
import TestSupport
import Webhooks

/// `site.<id>.webhooks` and `webhook.<id>.*`, from a file and from the environment: every mistake names its key
/// (and its variable) and says what to write.
@Suite struct WebhookConfigTests {
    static let base = """
        sites: [acme, shop]
        site:
          acme: { default_number: "+74950000000", webhooks: [crm] }
          shop: { default_number: "+74950000009", webhooks: [crm, audit] }

        """

    static func load(_ yaml: String, environment: [String: String] = [:]) async throws -> AppConfig {
        let dir = TemporaryDirectory("webhook-config")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try (base + yaml).write(toFile: path, atomically: true, encoding: .utf8)
        return try await ConfigLoader.load(file: path, environment: environment)
    }

    static func problem(_ yaml: String, environment: [String: String] = [:]) async -> ConfigProblem? {
        do {
            _ = try await load(yaml, environment: environment)
            return nil
        } catch {
            return error as? ConfigProblem
        }
    }

    static let valid = """
        webhook:
          crm: { url: "https://crm.example.com/hooks", secret: "0123456789abcdef0123", name: "amoCRM", dead_letter_after: 4, retry_initial: 2s, retry_max: 1m, timeout: 5s, concurrency: 2 }
          audit: { url: "http://127.0.0.1:9000/audit", secret: "fedcba9876543210fedc" }

        """

    @Test func endpointsAreReadWithTheSitesThatListThem() async throws {
        let config = try await Self.load(Self.valid)
        let crm = try #require(config.webhooks.first { $0.id == "crm" })
        #expect(crm.sites == ["acme", "shop"] && crm.name == "amoCRM" && crm.url.text == "https://crm.example.com/hooks")
        #expect(crm.deadLetterAfter == 4 && crm.retry == RetrySchedule(initial: .seconds(2), maximum: .seconds(60)))
        #expect(crm.timeout == .seconds(5) && crm.concurrency == 2 && crm.destinationName == "webhook:crm")
        let audit = try #require(config.webhooks.first { $0.id == "audit" })
        #expect(audit.sites == ["shop"] && audit.name == "audit" && audit.deadLetterAfter == 10 && audit.caFile == nil)
    }

    @Test func theEnvironmentOverridesTheFile() async throws {
        let config = try await Self.load(Self.valid, environment: [
            "CALLTRACKD_WEBHOOK_CRM_SECRET": "from-the-environment-0123", "CALLTRACKD_WEBHOOK_CRM_URL": "https://other.example.com/h",
        ])
        let crm = try #require(config.webhooks.first { $0.id == "crm" })
        #expect(crm.secret == Array("from-the-environment-0123".utf8) && crm.url.text == "https://other.example.com/h")
    }

    @Test(arguments: [
        ("webhook: { crm: { url: 'http://crm.example.com/h', secret: '0123456789abcdef0123' }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.url", "use https://"),
        ("webhook: { crm: { secret: '0123456789abcdef0123' }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.url", "missing: write the receiver's address"),
        ("webhook: { crm: { url: 'https://crm.example.com/h' }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.secret", "CALLTRACKD_WEBHOOK_CRM_SECRET"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: 'short' }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.secret", "at least 16 random characters"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123', dead_letter_after: 0 }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.dead_letter_after", "whole number from 1 to 1000"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123', retry_initial: 1m, retry_max: 10s }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.retry_max", "at least webhook.crm.retry_initial"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123', ca_file: /nonexistent/ca.pem }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.ca_file", "cannot read /nonexistent/ca.pem"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123', timeout: 1h }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.timeout", "100ms to 5m"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123' }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' }, erp: { url: 'https://erp.example.com/h' } }",
         "webhook.erp.url", "not listed in a site's webhooks (site.<id>.webhooks)"),
        ("webhook: { crm: { url: 'https://crm.example.com/h', secret: '0123456789abcdef0123', retries: 3 }, audit: { url: 'http://127.0.0.1/a', secret: '0123456789abcdef0123' } }",
         "webhook.crm.retries", "unknown key"),
    ] as [(String, String, String)])
    func aWrongValueNamesItsKeyAndSaysWhatToWrite(yaml: String, key: String, advice: String) async throws {
        let problem = try #require(await Self.problem(yaml + "\n"), "\(key) was accepted")
        #expect(problem.key == key, "\(problem)")
        #expect(problem.description.contains(advice), "\(problem)")
        #expect(problem.description.contains("(env \(problem.environmentVariable))"))
    }

    @Test func aBadEnvironmentValueNamesTheVariable() async throws {
        let problem = try #require(await Self.problem(Self.valid, environment: ["CALLTRACKD_WEBHOOK_AUDIT_URL": "http://example.com/a"]))
        #expect(problem.key == "webhook.audit.url")
        #expect(problem.description.contains("CALLTRACKD_WEBHOOK_AUDIT_URL"), "\(problem)")
    }
}
