import Foundation
import Testing
import TestSupport

/// `calltrackd route` and `calltrackd dealers` from a terminal, beside a running daemon: both see the dealers the
/// admin API added and retired, not only the config file's.
@Suite("calltrackd route and calltrackd dealers")
struct RouteCommandTests {
    static let token = "route-cli-admin-token-0123"

    static func writeConfig(in dir: TemporaryDirectory) throws -> String {
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            http: { port: 0 }
            admin: { token: "\(token)" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", default_route: "PJSIP/reception", pools: [main] }
            pool:
              main: { numbers: ["+74950000001"] }
            dealers: [moscow, spb]
            dealer:
              moscow: { regions: ["+7 495"], targets: ["PJSIP/moscow-1"] }
              spb: { regions: ["+7 812"], targets: ["PJSIP/spb-1", "PJSIP/spb-2"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        return config
    }

    static func route(_ config: String, _ arguments: [String]) async throws -> (status: Int32, json: [String: Any], output: String) {
        let result = try await runProgram([DaemonProcess.executable.path, "route", "--config", config] + arguments)
        let json = (try? JSONSerialization.jsonObject(with: Data(result.output.utf8))) as? [String: Any] ?? [:]
        return (result.status, json, result.output)
    }

    @Test("route decides with the config file's dealers, then with the admin API's additions and retirements while serve runs")
    func routeSeesAdminDealers() async throws {
        let dir = TemporaryDirectory("route-cli")
        defer { dir.remove() }
        let config = try Self.writeConfig(in: dir)

        let before = try await Self.route(config, ["--site", "acme", "--caller", "+78121234567", "--at", "2026-12-08T10:00+03:00", "--json"])
        #expect(before.status == 0, "\(before.output)")
        #expect(before.json["dealer"] as? String == "spb")
        #expect(before.json["targets"] as? [String] == ["PJSIP/spb-1", "PJSIP/spb-2"])
        #expect((before.json["reason"] as? String)?.contains("+7 812") == true, "\(before.output)")
        let unknown = try await Self.route(config, ["--site", "nowhere", "--caller", "+78121234567"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("--site nowhere is not configured: write one of acme"), "\(unknown.output)")

        let daemon = try await DaemonProcess(config: config)
        defer { daemon.killNow() }
        let put = await daemon.request("PUT", "/v1/admin/dealers/kazan", json: #"{"regions":["+7 843"],"targets":["PJSIP/kazan-1"]}"#, token: Self.token)
        #expect(put?.status == 200, "\(String(decoding: put?.body ?? Data(), as: UTF8.self))")
        let retired = await daemon.request("DELETE", "/v1/admin/dealers/spb", token: Self.token)
        #expect(retired?.status == 204)

        let kazan = try await Self.route(config, ["--site", "acme", "--caller", "+78431234567", "--json"])
        #expect(kazan.status == 0, "\(kazan.output)")
        #expect(kazan.json["dealer"] as? String == "kazan", "the dealer the admin API added: \(kazan.output)")
        let spbCaller = try await Self.route(config, ["--site", "acme", "--caller", "+78121234567", "--json"])
        #expect(spbCaller.json["dealer"] == nil || spbCaller.json["dealer"] is NSNull, "spb is retired: \(spbCaller.output)")
        #expect(spbCaller.json["default_route"] as? String == "PJSIP/reception", "\(spbCaller.output)")

        // dealers: the same list, as a table and as the API's JSON.
        let table = try await runProgram([DaemonProcess.executable.path, "dealers", "--config", config])
        #expect(table.status == 0, "\(table.output)")
        let lines = table.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("dealer") == true && lines.first?.contains("offered") == true, "\(table.output)")
        let rows = Set(lines.dropFirst().compactMap { $0.split(separator: " ").first.map(String.init) })
        #expect(rows.isSuperset(of: ["moscow", "kazan"]), "\(table.output)")
        #expect(!rows.contains("spb"), "a retired dealer with no calls is not listed: \(table.output)")
        let json = try await runProgram([DaemonProcess.executable.path, "dealers", "--config", config, "--json"])
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any], "\(json.output)")
        let dealers = try #require(answer["dealers"] as? [[String: Any]])
        #expect(Set(dealers.compactMap { $0["dealer_id"] as? String }) == ["moscow", "kazan"], "\(json.output)")
        #expect(dealers.allSatisfy { $0["offered"] as? Int == 0 })
    }
}
