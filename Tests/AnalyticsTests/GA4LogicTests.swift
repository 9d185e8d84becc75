import Analytics
import CallTrackCore
import Destinations
import Foundation
import Testing
import TestSupport

/// The pure rules: which conversions a lead earns, the request each makes or why it is skipped, GA4's event name
/// rules, the session id the API keeps.
private let now = Timestamp.seconds(1_790_000_000)

@Suite struct GA4LogicTests {
    static let now = Timestamp.seconds(1_790_000_000)
    static let property = GA4Property(id: "main", sites: ["acme"], measurementID: "G-ABC123XYZ9", apiSecret: "s3cret-value/+",
                                      endpoint: try! DestinationURL(GA4Property.defaultEndpoint))
    static let ids = VisitAnalyticsIDs(gaClientID: "1234.5678", gaSessionID: "1789999000")

    @Test(arguments: [
        (lead(1, ended: false, startedAt: now, now: now), [ConversionKind]()),
        (lead(1, startedAt: now, now: now), [.call]),
        (lead(1, kind: .shared, startedAt: now, now: now), []),
        (lead(1, kind: .static, startedAt: now, now: now), []),
        (lead(1, junk: .anonymous, startedAt: now, now: now), []),
        (lead(1, junk: .shortTalk, outcomes: [won("10", at: now)], startedAt: now, now: now), []),
        (lead(1, outcomes: [won("10", at: now)], startedAt: now, now: now), [.call, .won]),
        (lead(1, ended: false, outcomes: [won("10", at: now)], startedAt: now, now: now), [.won]),
        (lead(1, outcomes: [won("10", at: now), lost(at: now + .seconds(1))], startedAt: now, now: now), [.call]),
        (lead(1, outcomes: [won("10", at: now + .seconds(1)), lost(at: now)], startedAt: now, now: now), [.call, .won]),
    ] as [(Lead, [ConversionKind])])
    func whichConversionsALeadEarns(lead: Lead, expected: [ConversionKind]) {
        #expect(GA4Conversions.earned(by: lead, for: Self.property) == expected)
    }

    @Test func aRepeatOfAnOpenLeadIsNoQualifiedCall() {
        var repeated = lead(1, startedAt: Self.now, now: Self.now)
        repeated.repeatOf = "call-0"
        #expect(GA4Conversions.earned(by: repeated, for: Self.property) == [])
        var otherSite = lead(1, startedAt: Self.now, now: Self.now)
        otherSite.siteID = "shop"
        #expect(GA4Conversions.earned(by: otherSite, for: Self.property) == [])
    }

    @Test func theCallEventAsTheMeasurementProtocolWantsIt() throws {
        let decision = GA4Request.build(.call, of: lead(1, startedAt: Self.now - .seconds(90), now: Self.now), ids: Self.ids,
                                        property: Self.property, now: Self.now)
        guard case .send(let body, let name) = decision else { Issue.record("not sent: \(decision)"); return }
        #expect(name == "calltrackd_call")
        #expect(String(decoding: body, as: UTF8.self) == """
            {"client_id":"1234.5678","timestamp_micros":1789999910000000,"events":[{"name":"calltrackd_call","params":\
            {"session_id":"1789999000","engagement_time_msec":1,"match_kind":"exact","call_id":"call-1"}}]}
            """)
        _ = try JSONSerialization.jsonObject(with: Data(body))
    }

    @Test func skippedWithoutAClientIDOrWhenOlderThanGA4Backdates() {
        let fresh = lead(1, startedAt: Self.now - .seconds(3600), now: Self.now)
        #expect(GA4Request.build(.call, of: fresh, ids: nil, property: Self.property, now: Self.now) == .skip(.noClientID))
        #expect(GA4Request.build(.call, of: fresh, ids: VisitAnalyticsIDs(gaSessionID: "1"), property: Self.property, now: Self.now) == .skip(.noClientID))
        let limit = GA4Request.maxBackdating
        #expect(limit <= .seconds(72 * 3600) && limit >= .seconds(71 * 3600), "GA4 backdates up to 72 hours")
        let edge = lead(1, startedAt: Self.now - limit, now: Self.now)
        if case .skip = GA4Request.build(.call, of: edge, ids: Self.ids, property: Self.property, now: Self.now) { Issue.record("at the limit it is sent") }
        let old = lead(1, startedAt: Self.now - limit - .seconds(1), now: Self.now)
        #expect(GA4Request.build(.call, of: old, ids: Self.ids, property: Self.property, now: Self.now) == .skip(.tooOld))
        // A deal won long after an old call is sent: its time is the win's.
        let late = lead(1, outcomes: [won("5", at: Self.now - .seconds(60))], startedAt: Self.now - .seconds(30 * 86_400), now: Self.now)
        if case .skip = GA4Request.build(.won, of: late, ids: Self.ids, property: Self.property, now: Self.now) { Issue.record("the win is recent") }
        // A CRM clock ahead of ours: stamped now, never in the future.
        let ahead = lead(1, outcomes: [won("5", at: Self.now + .seconds(60))], startedAt: Self.now, now: Self.now)
        guard case .send(let body, _) = GA4Request.build(.won, of: ahead, ids: Self.ids, property: Self.property, now: Self.now) else {
            Issue.record("not sent"); return
        }
        #expect(String(decoding: body, as: UTF8.self).contains("\"timestamp_micros\":\(Self.now.microsecondsSinceEpoch),"))
    }

    @Test func stringsAreEscapedAndCutToGA4sLimit() throws {
        var odd = lead(1, startedAt: Self.now, now: Self.now)
        odd.callID = "a\"b\\c\n" + String(repeating: "x", count: 200)
        guard case .send(let body, _) = GA4Request.build(.call, of: odd, ids: Self.ids, property: Self.property, now: Self.now) else {
            Issue.record("not sent"); return
        }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        let params = try #require(((json["events"] as? [[String: Any]])?.first)?["params"] as? [String: Any])
        let callID = try #require(params["call_id"] as? String)
        #expect(callID.count == 100 && callID.hasPrefix("a\"b\\c\nxx"))
    }

    @Test func theCollectURLCarriesTheIDAndTheSecretEncodedAndLogsNeverTheSecret() {
        #expect(Self.property.collectURL == "https://www.google-analytics.com/mp/collect?measurement_id=G-ABC123XYZ9&api_secret=s3cret-value%2F%2B")
        #expect(!Self.property.redactedURL.contains("s3cret"))
        #expect(Self.property.destinationName == "ga4:main")
    }

    @Test(arguments: [
        ("calltrackd_call", nil), ("generate_lead", nil), ("purchase", nil), ("a", nil),
        (String(repeating: "a", count: 40), nil), (String(repeating: "a", count: 41), "longer than GA4's 40"),
        ("1st_call", "start with a letter"), ("call-made", "letters, digits and '_'"), ("звонок", "start with a letter"),
        ("", "empty"), ("session_start", "reserved"), ("ga_call", "starts with 'ga_'"), ("Firebase_x", "starts with 'firebase_'"),
    ] as [(String, String?)])
    func eventNamesFollowGA4sRules(name: String, problem: String?) {
        let found = GA4EventName.problem(name)
        if let problem { #expect(found?.contains(problem) == true, "\(name): \(found ?? "accepted")") } else { #expect(found == nil, "\(found ?? "")") }
    }

    @Test(arguments: [
        ("1789999123", "1789999123"), ("1", "1"), ("12345678901234567890", "12345678901234567890"),
        ("123456789012345678901", nil), ("0", nil), ("000", nil), ("", nil), ("17a", nil), ("-1", nil), ("1.5", nil), ("١٢٣", nil),
        ("GS2.1.s1789999123$o1", nil),
    ] as [(String, String?)])
    func theSessionIDIsOnlyANumber(text: String, kept: String?) {
        #expect(GASessionID.accept(text) == kept)
    }

    @Test func measurementIDs() {
        #expect(GA4Property.measurementIDProblem("G-ABC123XYZ9") == nil)
        for bad in ["UA-1234-1", "G-", "g-abc123", "G-abc123", "G-ABC 123", "ABC123"] {
            #expect(GA4Property.measurementIDProblem(bad) != nil, "\(bad)")
        }
    }
}
