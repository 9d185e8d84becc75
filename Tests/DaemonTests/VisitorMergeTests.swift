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
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.sites = [Site(
            id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: [try PhoneNumber.e164("+74950000001"), try PhoneNumber.e164("+74950000002")])])]
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await daemon.run(onListening: { listening.yield($0) }) }
        defer { running.cancel() }
        var port = 0
        for await bound in ports { port = bound; break }

        let desktop = try await Self.allocate(port: port, session: "sess_desktop01", visitor: "vis_desktop01", campaign: "pumps")
        let first = Self.call("call-1", to: desktop)
        await daemon.leads.handle(first)
        let phoneVisit = try await Self.allocate(port: port, session: "sess_mobile001", visitor: "vis_mobile001", campaign: "valves")
        #expect(phoneVisit != desktop)
        await daemon.leads.handle(Self.call("call-2", to: phoneVisit))

        let lead = try #require(try await daemon.ledger.lead("call-2"))
        let change = try LeadPayload.decoder().decode(LeadChange.self, from: Data(lead.payload.utf8))
        #expect(change.matchKind == "exact")
        #expect(change.sessionID == "sess_mobile001")
        #expect(change.visitorID == "vis_desktop01")
        #expect(change.journey.contains("sess_desktop01") && change.journey.contains("sess_mobile001"))
        #expect(change.firstTouch?.contains("pumps") == true)
        #expect(change.repeatOf == "call-1")
        let merges = try await daemon.ledger.merges()
        #expect(merges.count == 1)
        #expect(merges.first?.merged == "vis_mobile001")
        #expect(merges.first?.survivor == "vis_desktop01")
        #expect(merges.first?.via == "phone:+79161234567")
        let person = try await daemon.ledger.person(of: "vis_mobile001")
        #expect(person.survivor == "vis_desktop01")
        #expect(Set(person.ids) == ["vis_desktop01", "vis_mobile001"])
    }

    static func allocate(port: Int, session: String, visitor: String, campaign: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(#"{"site":"acme","session_id":"\#(session)","visitor_id":"\#(visitor)","utm_source":"google","utm_medium":"cpc","utm_campaign":"\#(campaign)"}"#.utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return answer?["number"] as? String ?? ""
    }
}
