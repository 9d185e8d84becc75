import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HTTPAPI
import HummingbirdTesting
import Testing
import TestSupport

/// `GET /v1/admin/dealers/stats` over a real socket, every answer checked against docs/openapi.yaml: a call routed
/// to the caller's regional dealer, answered, shows up in that dealer's figures.
@Suite("Dealer statistics API")
struct DealerStatsAPITests {
    static let auth: HTTPFields = [.authorization: "Bearer \(AdminAPITests.token)"]

    struct Answer: Decodable {
        struct Dealer: Decodable {
            var dealer_id: String
            var offered: Int
            var answered: Int
            var answer_seconds_p50: Int?
            var talk_seconds: Int
            var weight: Int?
            var weight_auto: Bool
        }
        var callback_window_seconds: Int
        var dealers: [Dealer]
    }

    @Test("an answered call from +7 812 counts for the Saint Petersburg dealer; Moscow is listed with nothing")
    func answeredCallCounts() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)
        config.routing = RoutingTable(book: try DealerBook([
            Dealer(id: "moscow", regions: [try PhoneRegion.parse("+7 495")], targets: ["PJSIP/moscow"]),
            Dealer(id: "spb", regions: [try PhoneRegion.parse("+7 812")], targets: ["PJSIP/spb"], autoWeight: true),
        ]))
        let t = Timestamp(microsecondsSinceEpoch: 1_799_971_200_000_000)
        let clock = ManualClock(at: t)
        try await TestDaemon.with(config, clock: clock) { daemon, client in
            let number = try PhoneNumber.e164("+74950000101")
            let caller = try PhoneNumber.e164("+78121234567")
            var call = CallRecord(id: "c1", revision: 1, trackingNumber: number, dialled: number.e164, caller: caller,
                                  callerRaw: caller.e164, callerWithheld: false, startedAt: t)
            await daemon.leads.handle(call)
            call.revision = 3
            call.answeredAt = t + .seconds(6)
            call.answeredBy = "PJSIP/spb"
            call.endedAt = t + .seconds(66)
            call.disposition = "answered"
            call.talkSeconds = 60
            call.ringSeconds = 6
            await daemon.leads.handle(call)

            let from = APITime.format(t - .seconds(3600))
            let to = APITime.format(t + .seconds(3600))
            let answer = try await client.execute(uri: "/v1/admin/dealers/stats?from=\(from)&to=\(to)", method: .get, headers: Self.auth) { response in
                #expect(response.status == .ok)
                return try JSONDecoder().decode(Answer.self, from: Data(response.body.readableBytesView))
            }
            #expect(answer.callback_window_seconds == 3600)
            #expect(answer.dealers.map(\.dealer_id) == ["moscow", "spb"])
            let spb = answer.dealers[1]
            #expect(spb.offered == 1 && spb.answered == 1 && spb.answer_seconds_p50 == 6 && spb.talk_seconds == 60)
            #expect(spb.weight_auto && spb.weight == 1)
            #expect(answer.dealers[0].offered == 0)

            try await client.execute(uri: "/v1/admin/dealers/stats?from=yesterday", method: .get, headers: Self.auth) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("from"))
            }
            try await client.execute(uri: "/v1/admin/dealers/stats", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
