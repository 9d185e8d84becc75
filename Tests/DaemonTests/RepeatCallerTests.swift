import CallTrackApp
import CallTrackCore
import Foundation
import PostgresSink
import Store
import Prometheus
import Testing
import TestSupport

/// One B2B buyer calls again and again over weeks, on two sites whose leads go to two dealers. The uniqueness
/// window and scope decide which calls open a new lead (a new deal in the CRM) and which repeat an open one.
@Suite("Repeat callers weeks later: the uniqueness window and scope")
struct RepeatCallerTests {
    static let caller = try! PhoneNumber.e164("+79161234567")
    static let day: Duration = .seconds(86_400)
    static let t0 = SystemClock().now() - .seconds(120 * 86_400)

    static func call(_ id: String, to number: String, at t: Timestamp, caller: PhoneNumber = caller, talk: Double? = nil) -> CallRecord {
        var call = CallRecord(id: id, revision: 1, trackingNumber: try! PhoneNumber.e164(number), dialled: number, caller: caller,
                              callerRaw: caller.e164, callerWithheld: false, startedAt: t)
        if let talk {
            call.revision = 3
            call.answeredAt = t + .seconds(5)
            call.endedAt = t + .seconds(5) + .milliseconds(Int64(talk * 1000))
            call.disposition = "answered"
            call.talkSeconds = talk
        }
        return call
    }

    /// Sites `pumps` (dealer north) and `valves` (dealer south); every call is handled in order; returns each lead's (is_lead, repeat_of, dealer).
    static func leads(scope: LeadRules.Scope, calls: [CallRecord]) async throws -> [String: (isLead: Bool, repeatOf: String?, dealer: String?, junk: String?)] {
        let dir = TemporaryDirectory("repeat")
        defer { dir.remove() }
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.leads.uniquenessScope = scope
        config.leads.uniquenessWindow = .seconds(30 * 86_400)
        config.sites = [
            Site(id: "pumps", defaultNumber: try PhoneNumber.e164("+74950000100"), staticNumbers: [
                StaticNumber(number: try PhoneNumber.e164("+74950000101"), source: MarketingSource(utmSource: "print"))], dealer: "north"),
            Site(id: "valves", defaultNumber: try PhoneNumber.e164("+74950000200"), staticNumbers: [
                StaticNumber(number: try PhoneNumber.e164("+74950000201"), source: MarketingSource(utmSource: "print"))], dealer: "south"),
        ]
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        var result: [String: (Bool, String?, String?, String?)] = [:]
        for call in calls {
            await daemon.leads.handle(call)
            let row = try #require(try await daemon.ledger.lead(call.id))
            let lead = try #require(row.lead)
            #expect(row.leadCall.dealerID == lead.dealerID)
            result[call.id] = (lead.isLead, lead.repeatOf, lead.dealerID, lead.junkReason?.rawValue)
        }
        return result
    }

    static let weeks: [CallRecord] = [
        call("c1-pumps", to: "+74950000101", at: t0, talk: 60),
        call("c2-valves-1w", to: "+74950000201", at: t0 + day * 7, talk: 60),
        call("c3-pumps-2w", to: "+74950000101", at: t0 + day * 14, talk: 60),
        call("c4-pumps-10w", to: "+74950000101", at: t0 + day * 70, talk: 60),  // outside the 30-day window of c1 and c3
    ]

    @Test("global: every call within 30 days of the open lead repeats it, whatever the site; after the window a new lead")
    func globalScope() async throws {
        let leads = try await Self.leads(scope: .global, calls: Self.weeks)
        #expect(leads["c1-pumps"]?.isLead == true)
        #expect(leads["c1-pumps"]?.dealer == "north")
        #expect(leads["c2-valves-1w"]?.repeatOf == "c1-pumps")
        #expect(leads["c2-valves-1w"]?.dealer == "south", "a repeat still records the dealer the call went to")
        #expect(leads["c3-pumps-2w"]?.repeatOf == "c1-pumps")
        #expect(leads["c4-pumps-10w"]?.isLead == true, "ten weeks later: a new deal")
        #expect(leads["c4-pumps-10w"]?.repeatOf == nil)
    }

    @Test("site: the call on the other site is a new lead; the same site's call repeats the site's open lead")
    func siteScope() async throws {
        let leads = try await Self.leads(scope: .site, calls: Self.weeks)
        #expect(leads["c2-valves-1w"]?.isLead == true)
        #expect(leads["c3-pumps-2w"]?.repeatOf == "c1-pumps")
    }

    @Test("dealer: each dealer gets its own lead for the buyer; a repeat to the same dealer is not a new deal")
    func dealerScope() async throws {
        let leads = try await Self.leads(scope: .dealer, calls: Self.weeks)
        #expect(leads["c2-valves-1w"]?.isLead == true, "dealer south has no open lead of this buyer")
        #expect(leads["c3-pumps-2w"]?.repeatOf == "c1-pumps")
        #expect(leads["c4-pumps-10w"]?.isLead == true)
    }

    @Test("junk is kept but never becomes the open lead a later call repeats")
    func junkIsNotOpen() async throws {
        let leads = try await Self.leads(scope: .global, calls: [
            Self.call("j1-short", to: "+74950000101", at: Self.t0, talk: 3),
            Self.call("j2-real", to: "+74950000101", at: Self.t0 + Self.day, talk: 120),
            Self.call("j3-again", to: "+74950000101", at: Self.t0 + Self.day * 2, talk: 120),
        ])
        #expect(leads["j1-short"]?.isLead == false)
        #expect(leads["j1-short"]?.junk == "short_talk")
        #expect(leads["j2-real"]?.isLead == true)
        #expect(leads["j2-real"]?.repeatOf == nil)
        #expect(leads["j3-again"]?.repeatOf == "j2-real")
    }
}
