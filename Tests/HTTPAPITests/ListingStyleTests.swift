import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("Leads and calls answer in the API's one style")
struct ListingStyleTests {
    @Test("a lead in GET /v1/admin/leads and a call in GET /v1/admin/calls: snake_case keys, ISO 8601 times; calltrackd leads --json prints the same lead")
    func leadsAndCallsOneStyle() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        let config = TestDaemon.config(dir: dir, adminToken: AdminAPITests.token)
        let leadsBody = try await TestDaemon.with(config, clock: clock) { daemon, client in
            let visit = try #require(try await client.allocate(
                #"{"site":"acme","session_id":"sess_style001","landing_url":"https://acme.example/?utm_source=google&utm_medium=cpc"}"#).answer)
            let caller = try PhoneNumber.e164("+79161234567")
            await daemon.leads.handle(CallRecord(
                id: "1700000030.7", revision: 1, trackingNumber: try PhoneNumber.e164(visit.number), dialled: visit.number,
                caller: caller, callerRaw: caller.e164, callerWithheld: false, startedAt: clock.now() + .seconds(30)))
            let leadsBody = try await client.execute(uri: "/v1/admin/leads", method: .get, headers: AdminAPITests.auth) { response in
                Data(response.body.readableBytesView)
            }
            let leads = try JSONSerialization.jsonObject(with: leadsBody) as? [[String: Any]]
            let calls = try await client.execute(uri: "/v1/admin/calls", method: .get, headers: AdminAPITests.auth) { response in
                try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [[String: Any]]
            }
            let lead = try #require(leads?.first)
            #expect(lead["call_id"] as? String == "1700000030.7")
            #expect(lead["match_kind"] as? String == "exact")
            #expect(lead["started_at"] as? String == "2023-11-14T22:13:50Z")
            #expect((lead["journey"] as? [[String: Any]])?.first?["at"] as? String == "2023-11-14T22:13:20Z")
            #expect((lead["last_touch"] as? [String: Any])?["source"] as? String == "google")
            #expect(Self.keys(of: lead).filter { !Self.isSnakeCase($0) } == [])
            let call = try #require(calls?.first)
            #expect(call["started_at"] as? String == "2023-11-14T22:13:50Z")
            #expect(Self.keys(of: call).filter { !Self.isSnakeCase($0) } == [])
            return leadsBody
        }
        // The command line prints each lead as the admin API shows it.
        let printed = try await LeadListing.lines(config: config, limit: 5, json: true)
        #expect(printed.count == 1)
        let line = try JSONSerialization.jsonObject(with: Data(try #require(printed.first).utf8)) as? NSDictionary
        let leads = try JSONSerialization.jsonObject(with: leadsBody) as? [[String: Any]]
        #expect(line == leads?.first.map(NSDictionary.init(dictionary:)))
    }

    /// Every key of a JSON object, nested objects and arrays included.
    static func keys(of value: Any) -> [String] {
        switch value {
        case let object as [String: Any]: object.keys + object.values.flatMap { keys(of: $0) }
        case let array as [Any]: array.flatMap { keys(of: $0) }
        default: []
        }
    }

    static func isSnakeCase(_ key: String) -> Bool {
        key.wholeMatch(of: /[a-z][a-z0-9]*(_[a-z0-9]+)*/) != nil
    }
}
