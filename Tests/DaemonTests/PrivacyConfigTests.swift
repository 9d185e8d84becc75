import CallTrackApp
import CallTrackCore
import Foundation
import Testing
import TestSupport

/// `privacy.retention` and `privacy.redact_after.<kind>`: file and environment, defaults, and errors that name the key.
@Suite("Privacy config")
struct PrivacyConfigTests {
    static let day = Duration.seconds(86_400)

    func load(_ yaml: String, environment: [String: String] = [:]) async throws -> AppConfig {
        let dir = TemporaryDirectory("privacy-config")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try await ConfigLoader.load(file: path, environment: environment)
    }

    func problem(_ yaml: String, environment: [String: String] = [:]) async -> String? {
        do {
            _ = try await load(yaml, environment: environment)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("each kind from the file or its CALLTRACKD_ variable; kinds not set keep their defaults")
    func fileAndEnvironment() async throws {
        let config = try await load("privacy:\n  retention: 400d\n  redact_after:\n    callers: 365d\n    ip_addresses: 7d\n",
                                    environment: ["CALLTRACKD_PRIVACY_REDACT_AFTER_URLS": "60d"])
        #expect(config.retention.identifiers == Self.day * 400)
        #expect(config.retention.redactAfter[.callers] == Self.day * 365)
        #expect(config.retention.redactAfter[.ipAddresses] == Self.day * 7)
        #expect(config.retention.redactAfter[.urls] == Self.day * 60)
        #expect(config.retention.redactAfter[.userAgents] == Self.day * 90)
        #expect(config.retention.redactAfter[.sessions] == Self.day * 730)
        #expect(try await load("log:\n  level: info\n").retention == RetentionPolicy())
    }

    @Test("a mistyped kind names the one meant; a period too short or not a duration names the key and what to write")
    func errors() async {
        #expect(await problem("privacy:\n  redact_after:\n    caller: 365d\n")
                == "config key privacy.redact_after.caller (env CALLTRACKD_PRIVACY_REDACT_AFTER_CALLER): unknown key; did you mean `privacy.redact_after.callers`?")
        let short = await problem("privacy:\n  redact_after:\n    sessions: 7d\n")
        #expect(short?.hasPrefix("config key privacy.redact_after.sessions") == true)
        #expect(short?.contains("write e.g. 730d") == true, "\(short ?? "")")
        let bad = await problem("log:\n  level: info\n", environment: ["CALLTRACKD_PRIVACY_REDACT_AFTER_USER_AGENTS": "soon"])
        #expect(bad?.contains("privacy.redact_after.user_agents") == true && bad?.contains("is not a duration") == true, "\(bad ?? "")")
    }
}
