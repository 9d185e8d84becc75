import Analytics
import CallTrackApp
import CallTrackCore
import Destinations
import Foundation
import Testing
import TestSupport

/// `site.<id>.ga4` and `ga4.<id>.*`, from a file and from the environment: every mistake names its key (and its
/// variable) and says what to write.
@Suite struct GA4ConfigTests {
    static let base = """
        sites: [acme, shop]
        site:
          acme: { default_number: "+74950000000", ga4: [main] }
          shop: { default_number: "+74950000009", ga4: [main, eu] }

        """

    static func load(_ yaml: String, environment: [String: String] = [:]) async throws -> AppConfig {
        let dir = TemporaryDirectory("ga4-config")
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
        ga4:
          main: { measurement_id: G-ABC123XYZ9, api_secret: "abcdefgh12345678", match_kinds: [exact, shared], call_event: generate_lead, call_value: "1 500,50", currency: rub, won_event: close_convert_lead, dead_letter_after: 4, retry_initial: 2s, retry_max: 1m, timeout: 5s }
          eu: { measurement_id: G-EU0000001, api_secret: "zyxwvuts87654321", endpoint: "http://127.0.0.1:9000/mp/collect" }

        """

    @Test func propertiesAreReadWithTheSitesThatListThem() async throws {
        let config = try await Self.load(Self.valid)
        let main = try #require(config.ga4.first { $0.id == "main" })
        #expect(main.sites == ["acme", "shop"] && main.measurementID == "G-ABC123XYZ9" && main.apiSecret == "abcdefgh12345678")
        #expect(main.endpoint.text == GA4Property.defaultEndpoint && main.matchKinds == [.exact, .shared])
        #expect(main.callEvent == "generate_lead" && main.wonEvent == "close_convert_lead")
        #expect(main.callValue == Money(hundredths: 150_050, currency: "RUB"))
        #expect(main.deadLetterAfter == 4 && main.retry == RetrySchedule(initial: .seconds(2), maximum: .seconds(60)) && main.timeout == .seconds(5))
        #expect(main.destinationName == "ga4:main")
        let eu = try #require(config.ga4.first { $0.id == "eu" })
        #expect(eu.sites == ["shop"] && eu.endpoint.text == "http://127.0.0.1:9000/mp/collect")
        #expect(eu.matchKinds == [.exact, .late, .repeat] && eu.callEvent == "calltrackd_call" && eu.wonEvent == "purchase" && eu.callValue == nil)
    }

    @Test func theSecretComesFromTheEnvironment() async throws {
        let config = try await Self.load(Self.valid, environment: ["CALLTRACKD_GA4_MAIN_API_SECRET": "from-the-environment"])
        #expect(config.ga4.first { $0.id == "main" }?.apiSecret == "from-the-environment")
        let noSecretInFile = Self.valid.replacingOccurrences(of: #"api_secret: "zyxwvuts87654321", "#, with: "")
        let fromEnv = try await Self.load(noSecretInFile, environment: ["CALLTRACKD_GA4_EU_API_SECRET": "eu-secret-from-env"])
        #expect(fromEnv.ga4.first { $0.id == "eu" }?.apiSecret == "eu-secret-from-env")
    }

    static let eu = "eu: { measurement_id: G-EU0000001, api_secret: zyxwvuts87654321 }"

    @Test(arguments: [
        ("main: { api_secret: abcdefgh12345678 }", "ga4.main.measurement_id", "missing: write the web stream's measurement id"),
        ("main: { measurement_id: UA-1234-1, api_secret: abcdefgh12345678 }", "ga4.main.measurement_id", "G- and upper-case letters or digits"),
        ("main: { measurement_id: G-ABC123XYZ9 }", "ga4.main.api_secret", "CALLTRACKD_GA4_MAIN_API_SECRET"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: short }", "ga4.main.api_secret", "8 to 256 characters"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, endpoint: 'http://collector.example.com/mp/collect' }",
         "ga4.main.endpoint", "use https://"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, match_kinds: [exact, unmatched] }", "ga4.main.match_kinds",
         "list some of exact, shared, late, repeat, static"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, match_kinds: [exact, bogus] }", "ga4.main.match_kinds", "'bogus'"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, call_event: session_start }", "ga4.main.call_event", "reserved by GA4"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, won_event: 'won-deal' }", "ga4.main.won_event", "letters, digits and '_'"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, call_event: purchase }", "ga4.main.won_event", "the same as ga4.main.call_event"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, call_value: 100 }", "ga4.main.currency", "needs its currency"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, call_value: 100, currency: rubles }", "ga4.main.currency", "ISO 4217"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, call_value: lots, currency: RUB }", "ga4.main.call_value", "is not an amount"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, currency: RUB }", "ga4.main.currency", "set without ga4.main.call_value"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, retry_initial: 1m, retry_max: 10s }", "ga4.main.retry_max",
         "at least ga4.main.retry_initial"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, timeout: 1h }", "ga4.main.timeout", "100ms to 5m"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678, events: [x] }", "ga4.main.events", "unknown key"),
        ("main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678 }\n  other: { measurement_id: G-OTHER0001 }", "ga4.other.measurement_id",
         "not listed in a site's GA4 properties (site.<id>.ga4)"),
    ] as [(String, String, String)])
    func aWrongValueNamesItsKeyAndSaysWhatToWrite(property: String, key: String, advice: String) async throws {
        let yaml = "ga4:\n  \(Self.eu)\n  \(property)\n"
        let problem = try #require(await Self.problem(yaml), "\(key) was accepted")
        #expect(problem.key == key, "\(problem)")
        #expect(problem.description.contains(advice), "\(problem)")
    }

    @Test func aBadSiteListEntryNamesItsIndex() async throws {
        let dir = TemporaryDirectory("ga4-config")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try """
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", ga4: [main, "bad id!"] }
            ga4:
              main: { measurement_id: G-ABC123XYZ9, api_secret: abcdefgh12345678 }

            """.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try await ConfigLoader.load(file: path, environment: [:])
            Issue.record("accepted")
        } catch let problem as ConfigProblem {
            #expect(problem.key == "site.acme.ga4[1]" && problem.description.contains("not a valid GA4 property id"), "\(problem)")
        }
    }
}
