import CallTrackApp
import Foundation
import Testing
import TestSupport

/// A mistyped key must stop the daemon at start (and `check-config`), naming the key and the one meant:
/// ignored in silence, `http.trusted_proxy` would leave the flood guard keyed on the proxy's address.
@Suite("Config that cannot be mistyped")
struct UnknownConfigKeyTests {
    static let site = """
        sites: [acme]
        site:
          acme:
            default_number: "+74950000000"
            pools: [acme-main]
        pool:
          acme-main:
            numbers: ["+74950000001"]
        """

    func problem(_ yaml: String, environment: [String: String] = [:]) async throws -> String? {
        let dir = TemporaryDirectory("config-keys")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try await ConfigLoader.load(file: path, environment: environment)
            return nil
        } catch let problem as ConfigProblem {
            return problem.description
        }
    }

    @Test("a mistyped key in the file is an error naming the closest known key")
    func mistypedFileKey() async throws {
        let message = try #require(try await problem(Self.site + "\nhttp:\n  trusted_proxy: [10.0.0.1]\n"))
        #expect(message == "config key http.trusted_proxy (env CALLTRACKD_HTTP_TRUSTED_PROXY): unknown key; did you mean `http.trusted_proxies`?")
    }

    @Test("a mistyped CALLTRACKD_ variable is an error naming the closest known variable; the tools' own variables are not keys")
    func mistypedVariable() async throws {
        let message = try #require(try await problem(Self.site, environment: [
            "CALLTRACKD_HTTP_PROT": "8080", "CALLTRACKD_CONFIG": "/etc/calltrackd.yaml", "HOME": "/root",
        ]))
        #expect(message == "environment variable CALLTRACKD_HTTP_PROT: no config key has this name; did you mean `CALLTRACKD_HTTP_PORT`?")
    }

    @Test("every unknown key is listed at once, each on its own line; one far from every key gets no guess")
    func everyProblemAtOnce() async throws {
        let message = try #require(try await problem(Self.site + "\nlog:\n  levl: debug\nwhatever: 1\n",
                                                     environment: ["CALLTRACKD_LOG_FROMAT": "json"]))
        #expect(message.split(separator: "\n") == [
            "config key log.levl (env CALLTRACKD_LOG_LEVL): unknown key; did you mean `log.level`?",
            "config key whatever (env CALLTRACKD_WHATEVER): unknown key",
            "environment variable CALLTRACKD_LOG_FROMAT: no config key has this name; did you mean `CALLTRACKD_LOG_FORMAT`?",
        ])
    }

    @Test("a key of a section that is read only with its main key says what is missing, not a guess")
    func keyOfAnUnreadSection() async throws {
        let message = try #require(try await problem(Self.site + "\nami:\n  port: 5038\n"))
        #expect(message.hasPrefix("config key ami.port (env CALLTRACKD_AMI_PORT): the ami section is read only when ami.host is set"))
        let postgres = try #require(try await problem(Self.site, environment: ["CALLTRACKD_POSTGRES_SCHEMA": "crm"]))
        #expect(postgres.hasPrefix("environment variable CALLTRACKD_POSTGRES_SCHEMA: the postgres section is read only when postgres.url is set"))
    }

    @Test("a site or pool section no list names is reported as unread")
    func unlistedSections() async throws {
        let message = try #require(try await problem(Self.site + "\n  shop-pool:\n    numbers: [\"+74950000009\"]\n"))
        #expect(message == "config key pool.shop-pool.numbers (env CALLTRACKD_POOL_SHOP_POOL_NUMBERS): not read: 'shop-pool' is not listed in a site's pools (site.<id>.pools); list it there or remove this section")
    }

    @Test("the shipped example config and a clean environment load without a problem")
    func exampleConfigIsClean() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/calltrackd.example.yaml").standardized.path
        _ = try await ConfigLoader.load(file: example, environment: ["CALLTRACKD_HTTP_PORT": "0", "CALLTRACKD_ADMIN_TOKEN": "0123456789abcdef0123"])
        #expect(try await problem(Self.site + "\nhttp:\n  trusted_proxies: [10.0.0.1]\n") == nil)
    }

    @Test("check-config refuses a mistyped key (non-zero exit) and says which")
    func checkConfigRefuses() async throws {
        let dir = TemporaryDirectory("config-keys-cli")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try (Self.site + "\nhttp:\n  trusted_proxy: [10.0.0.1]\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (status, output) = try await DaemonProcess.run(["check-config", "--config", path])
        #expect(status != 0)
        #expect(output.contains("did you mean `http.trusted_proxies`?"))
    }
}
