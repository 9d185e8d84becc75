import CallTrackApp
import CallTrackCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import PostgresSink
import Prometheus
import Store
import Testing
import TestSupport

/// One buyer, two devices: a desktop visit and, days later, a phone visit with another cookie. The same
/// phone calls after both: the two visitors become one person, with one journey, and the merge is recorded.
@Suite("Visitors merge when one phone links them")
struct VisitorMergeTests {
    static let phone = try! PhoneNumber.e164("+79161234567")

    static func call(_ id: String, to number: String) -> CallRecord {
        CallRecord(id: id, revision: 1, trackingNumber: try! PhoneNumber.e164(number), dialled: number, caller: phone,
                   callerRaw: phone.e164, callerWithheld: false, startedAt: SystemClock().now())
    }

    @Test("the second device's visitor merges into the first; the lead carries both visits; the merge is recorded")
    func twoDevicesOnePerson() async throws {
        let dir = TemporaryDirectory("merge")
        defer { dir.remove() }
        let (daemon, port, running) = try await Self.start(in: dir)
        defer { running.cancel() }

        let desktop = try await Self.allocate(port: port, session: "sess_desktop01", visitor: "vis_desktop01", campaign: "pumps")
        let first = Self.call("call-1", to: desktop)
        await daemon.leads.handle(first)
        let phoneVisit = try await Self.allocate(port: port, session: "sess_mobile001", visitor: "vis_mobile001", campaign: "valves")
        #expect(phoneVisit != desktop)
        await daemon.leads.handle(Self.call("call-2", to: phoneVisit))

        let change = try #require(try await daemon.ledger.lead("call-2")?.lead)
        #expect(change.match.kind == .exact)
        #expect(change.match.sessionID == "sess_mobile001")
        #expect(change.visitorID == "vis_desktop01")
        #expect(change.journey.map(\.sessionID) == ["sess_desktop01", "sess_mobile001"])
        #expect(change.firstTouch?.campaign == "pumps")
        #expect(change.repeatOf == "call-1")
        let merges = try await daemon.ledger.merges()
        #expect(merges.count == 1)
        #expect(merges.first?.merged == "vis_mobile001")
        #expect(merges.first?.survivor == "vis_desktop01")
        #expect(merges.first?.via == "phone:+79161234567")
        let person = try #require(try await daemon.ledger.profile(of: "vis_mobile001"))
        #expect(person.survivor == "vis_desktop01")
        #expect(Set(person.visitorIDs) == ["vis_desktop01", "vis_mobile001"])
    }

    @Test("a cleared cookie with the same GA client id is the same person: the call's lead carries the earlier visit; admin API shows and links the person")
    func analyticsIDAndConnectorLinkOverHTTP() async throws {
        let dir = TemporaryDirectory("merge-ga")
        defer { dir.remove() }
        let (daemon, port, running) = try await Self.start(in: dir)
        defer { running.cancel() }

        _ = try await Self.allocate(port: port, session: "sess_before01", visitor: "vis_before01", campaign: "pumps", extra: #","ga_client_id":"1234567890.1700000000""#)
        // Cookies cleared: a new visitor id, but Google Analytics' cookie survived (or another subdomain).
        let number = try await Self.allocate(port: port, session: "sess_after001", visitor: "vis_after001", campaign: "valves", extra: #","ga_client_id":"1234567890.1700000000""#)
        await daemon.leads.handle(Self.call("call-ga", to: number))

        let change = try #require(try await daemon.ledger.lead("call-ga")?.lead)
        #expect(change.match.sessionID == "sess_after001")
        #expect(change.visitorID == "vis_before01")
        #expect(change.firstTouch?.campaign == "pumps", "first touch: the visit before the cookies were cleared")
        #expect(change.journey.map(\.sessionID) == ["sess_before01", "sess_after001"])

        let shown = try await Self.admin(port: port, "GET", "/v1/admin/visitors/vis_after001")
        #expect(shown.status == 200)
        #expect(shown.json["visitor_id"] as? String == "vis_before01")
        #expect(shown.json["visitor_ids"] as? [String] == ["vis_before01", "vis_after001"])
        let merge = (shown.json["merges"] as? [[String: Any]])?.first
        #expect(merge?["via"] as? String == "ga:1234567890.1700000000")
        #expect(shown.json["leads"] as? [String] == ["call-ga"])

        // A connector writes the CRM contact back for the call, then finds the contact on a third visitor.
        _ = try await Self.allocate(port: port, session: "sess_third001", visitor: "vis_third001", campaign: "pumps", extra: "")
        let linked = try await Self.admin(port: port, "POST", "/v1/admin/identities",
                                          #"{"kind":"crm","value":"amo-4711","call_id":"call-ga","source":"amoCRM connector"}"#)
        #expect(linked.status == 200)
        #expect(linked.json["visitor_id"] as? String == "vis_before01")
        let third = try await Self.admin(port: port, "POST", "/v1/admin/identities",
                                         #"{"kind":"crm","value":"amo-4711","visitor_id":"vis_third001"}"#)
        #expect(third.json["visitor_ids"] as? [String] == ["vis_before01", "vis_after001", "vis_third001"])
        // Bad links answer with what to do.
        #expect(try await Self.admin(port: port, "POST", "/v1/admin/identities", #"{"kind":"email","value":"a@b","visitor_id":"x"}"#).status == 400)
        #expect(try await Self.admin(port: port, "POST", "/v1/admin/identities", #"{"kind":"phone","value":"not a phone","visitor_id":"x"}"#).status == 400)
        #expect(try await Self.admin(port: port, "POST", "/v1/admin/identities", #"{"kind":"crm","value":"1"}"#).status == 400)
        #expect(try await Self.admin(port: port, "POST", "/v1/admin/identities", #"{"kind":"crm","value":"1","call_id":"nope"}"#).status == 404)
        #expect(try await Self.admin(port: port, "GET", "/v1/admin/visitors/nobody").status == 404)
    }

    /// The daemon with one two-number pool and the admin API, serving HTTP until `running` is cancelled.
    static func start(in dir: TemporaryDirectory) async throws -> (daemon: Daemon, port: Int, running: Task<Void, any Error>) {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.api.adminToken = "test-admin-token-0123456789"
        config.sites = [Site(
            id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001"), try PhoneNumber.e164("+74950000002")])])]
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        return (daemon, port, running)
    }

    static func admin(port: Int, _ method: String, _ path: String, _ body: String? = nil) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer test-admin-token-0123456789", forHTTPHeaderField: "Authorization")
        request.httpBody = body.map { Data($0.utf8) }
        let (data, response) = try await OpenAPIConformance.data(for: request)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (response.statusCode, json)
    }

    static func allocate(port: Int, session: String, visitor: String, campaign: String, extra: String = "") async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(#"{"site":"acme","session_id":"\#(session)","visitor_id":"\#(visitor)","utm_source":"google","utm_medium":"cpc","utm_campaign":"\#(campaign)"\#(extra)}"#.utf8)
        let (data, _) = try await OpenAPIConformance.data(for: request)
        let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return answer?["number"] as? String ?? ""
    }
}
