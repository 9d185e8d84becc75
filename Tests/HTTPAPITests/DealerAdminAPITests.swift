import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HTTPAPI
import HummingbirdTesting
import Testing
import TestSupport

/// `/v1/admin/dealers` over a real socket, every answer checked against docs/openapi.yaml: a dealer created,
/// changed and retired without a restart routes at once, and the change outlives a restart (it outranks the file).
@Suite("Dealers through the admin API")
struct DealerAdminAPITests {
    static let auth: HTTPFields = [.authorization: "Bearer \(AdminAPITests.token)", .contentType: "application/json"]

    struct Entry: Decodable {
        struct Definition: Decodable {
            var id: String
            var regions: [String]?
            var targets: [String]
            var time_zone: String?
            var hours: [String: String]?
        }
        var dealer: Definition
        var origin: String
        var weight_in_use: Int
        var busy_lines: Int
    }

    static func config(_ dir: TemporaryDirectory) throws -> AppConfig {
        var config = TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)
        config.routing = RoutingTable(book: try DealerBook([
            Dealer(id: "moscow", regions: [try PhoneRegion.parse("+7 495")], targets: ["PJSIP/moscow"]),
        ]))
        return config
    }

    @Test("create a Saint Petersburg dealer: routing sends +7 812 callers to it at once; change it; retire it; the file does not bring it back")
    func createChangeRetire() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let config = try Self.config(dir)
        let caller = try PhoneNumber.e164("+78121234567")
        let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
        try await TestDaemon.with(config) { daemon, client in
            let listed = try await client.execute(uri: "/v1/admin/dealers", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode([Entry].self, from: Data(response.body.readableBytesView))
            }
            #expect(listed.map(\.dealer.id) == ["moscow"] && listed.first?.origin == "config")
            #expect(daemon.routing.route(RoutingRequest(site: "acme", caller: caller, at: t), call: nil).dealer == nil)

            let body = #"{"name":"Saint Petersburg","regions":["+7 812"],"weight":"auto","capacity":2,"time_zone":"Europe/Moscow","hours":{"weekdays":"09:00-18:00"},"targets":["PJSIP/spb-1","Local/300@dealers"]}"#
            let created = try await client.execute(uri: "/v1/admin/dealers/spb", method: .put, headers: Self.auth, body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(Entry.self, from: Data(response.body.readableBytesView))
            }
            #expect(created.dealer.id == "spb" && created.origin == "admin" && created.dealer.hours?["mon"] == "09:00-18:00")
            // Fri 2027-01-15 11:00 in Moscow: open.
            let routed = daemon.routing.route(RoutingRequest(site: "acme", caller: caller, at: t), call: nil)
            #expect(routed.dealer == "spb", "\(routed.reason)")

            try await client.execute(uri: "/v1/admin/dealers/spb", method: .put, headers: Self.auth,
                                     body: ByteBuffer(string: #"{"regions":["+7 812"],"targets":["PJSIP/spb-2"]}"#)) { response in
                #expect(response.status == .ok)
            }
            #expect(daemon.routing.book["spb"]?.targets == ["PJSIP/spb-2"], "the change routes at once")

            try await client.execute(uri: "/v1/admin/dealers/bad", method: .put, headers: Self.auth,
                                     body: ByteBuffer(string: #"{"targets":["PJSIP/x, Local/y"]}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("targets[0]"))
            }
            try await client.execute(uri: "/v1/admin/dealers/moscow", method: .delete, headers: Self.auth) { response in
                #expect(response.status == .noContent)
            }
            try await client.execute(uri: "/v1/admin/dealers/nobody", method: .delete, headers: Self.auth) { response in
                #expect(response.status == .notFound)
            }
            #expect(daemon.routing.book.dealers.map(\.id) == ["spb"])
        }
        // A restart with the same file: the admin API's changes stand.
        try await TestDaemon.with(config) { daemon, client in
            #expect(daemon.routing.book.dealers.map(\.id) == ["spb"], "moscow stays retired, spb stays")
            #expect(daemon.routing.book["spb"]?.targets == ["PJSIP/spb-2"])
            let listed = try await client.execute(uri: "/v1/admin/dealers", method: .get, headers: Self.auth) { response in
                try JSONDecoder().decode([Entry].self, from: Data(response.body.readableBytesView))
            }
            #expect(listed.map(\.origin) == ["admin"])
        }
    }
}
