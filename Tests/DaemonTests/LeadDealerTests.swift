import CallTrackApp
import CallTrackCore
import Logging
import Store
import Testing
import TestSupport

/// Every lead gets its dealer from the routing decision at call start, stored with the decision's reason: the
/// decision FastAGI made for the call if it did, the dealer who handled the person before if open and free, and
/// the failover dealer whose leg answered. The call's hangup gives the dealer's line back.
@Suite("Lead path: every lead gets its dealer")
struct LeadDealerTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let number = try! PhoneNumber.e164("+74950000001")
    static let otherSiteNumber = try! PhoneNumber.e164("+74950000002")
    static let muscovite = try! PhoneNumber.e164("+74951234567")
    static let petersburger = try! PhoneNumber.e164("+78121234567")

    /// Two Moscow dealers (weights 3 and 1, one line each) and one for Saint Petersburg, all serving `acme`;
    /// the site `plain` is served by none and has a fixed dealer.
    static func routes() throws -> RoutingTable {
        RoutingTable(book: try DealerBook([
            Dealer(id: "moscow-north", regions: [try PhoneRegion.parse("+7 495")], sites: ["acme"], weight: 3, capacity: 1,
                   targets: ["PJSIP/dealer-12"]),
            Dealer(id: "moscow-south", regions: [try PhoneRegion.parse("+7 495")], sites: ["acme"], weight: 1, capacity: 1,
                   targets: ["PJSIP/dealer-13", "Local/213@dealers"]),
            Dealer(id: "spb", regions: [try PhoneRegion.parse("+7 812")], sites: ["acme"], targets: ["PJSIP/dealer-20"]),
        ]))
    }

    struct World {
        let dir: TemporaryDirectory
        let writer: Task<Void, Never>
        let ledger: LeadLedger
        let leads: LeadDesk
        let routing: RoutingDesk

        func stop() {
            writer.cancel()
            dir.remove()
        }

        func lead(_ id: String) async throws -> Lead { try #require(try await ledger.lead(id)?.lead) }
    }

    static func world(_ name: String, plainDealer: String? = "plain-dealer") async throws -> World {
        let dir = TemporaryDirectory(name)
        let store = try SQLiteStore(path: dir.file("state.sqlite"), logger: Logger(label: "test"))
        let writer = Task { await store.run() }
        let sites = [
            Site(id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"), pools: [Pool(id: "main", numbers: [number])]),
            Site(id: "plain", defaultNumber: otherSiteNumber, dealer: plainDealer),
        ]
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let routing = RoutingDesk(routes: try routes())
        var rules = LeadRules()
        rules.minTalkSeconds = 0
        let leads = LeadDesk(book: LeaseBook(sites: sites), store: store, ledger: ledger, settings: rules,
                             clock: ManualClock(at: t), logger: Logger(label: "test"), routing: routing)
        return World(dir: dir, writer: writer, ledger: ledger, leads: leads, routing: routing)
    }

    static func ringing(_ id: String, from caller: PhoneNumber?, to number: PhoneNumber = number, at start: Timestamp = t) -> CallRecord {
        CallRecord(id: id, revision: 1, trackingNumber: number, dialled: number.e164, caller: caller,
                   callerRaw: caller?.e164 ?? "anonymous", callerWithheld: caller == nil, startedAt: start)
    }

    static func ended(_ call: CallRecord, answeredBy: String? = nil, after seconds: Int64 = 60) -> CallRecord {
        var ended = call
        ended.revision = 3
        ended.endedAt = call.startedAt + .seconds(seconds)
        if let answeredBy {
            ended.answeredAt = call.startedAt + .seconds(5)
            ended.answeredBy = answeredBy
            ended.disposition = "answered"
            ended.talkSeconds = Double(seconds - 5)
        } else {
            ended.disposition = "no_answer"
        }
        return ended
    }

    @Test("a caller from Saint Petersburg gets the Saint Petersburg dealer, with the rule and the reason stored")
    func regionDecidesTheDealer() async throws {
        let world = try await Self.world("dealer-region")
        defer { world.stop() }
        await world.leads.handle(Self.ringing("c1", from: Self.petersburger))
        let lead = try await world.lead("c1")
        #expect(lead.dealerID == "spb")
        #expect(lead.dealerRule == .area)
        #expect(lead.dealerReason?.contains("region +7 812 → spb") == true, "\(lead.dealerReason ?? "-")")
        #expect(world.routing.busyLines() == ["spb": 1], "the decision holds one of the dealer's lines")
        // The JSON the admin API and `calltrackd leads --json` show carries it.
        let json = LeadLedger.json(lead)
        #expect(json.contains(#""dealerID":"spb""#) && json.contains(#""dealerRule":"area""#) && json.contains("dealerReason"))
    }

    @Test("the call's hangup gives the dealer's line back, so the next Muscovite gets the same dealer again")
    func hangupReleasesTheLine() async throws {
        let world = try await Self.world("dealer-release")
        defer { world.stop() }
        let first = Self.ringing("c1", from: Self.muscovite)
        await world.leads.handle(first)
        #expect(try await world.lead("c1").dealerID == "moscow-north")
        #expect(world.routing.busyLines() == ["moscow-north": 1])
        await world.leads.handle(Self.ended(first, answeredBy: "PJSIP/dealer-12"))
        #expect(world.routing.busyLines().isEmpty, "the hangup released the line")
        // A caller with no history: north's line is free again, and weight 3 against 1 picks north again.
        await world.leads.handle(Self.ringing("c2", from: try PhoneNumber.e164("+74957654321"), at: Self.t + .seconds(120)))
        #expect(try await world.lead("c2").dealerID == "moscow-north")
    }

    @Test("a line held by a live call makes the dealer full: the next caller goes to the other Moscow dealer, and says why")
    func fullDealerIsPassedOver() async throws {
        let world = try await Self.world("dealer-full")
        defer { world.stop() }
        await world.leads.handle(Self.ringing("c1", from: Self.muscovite))
        await world.leads.handle(Self.ringing("c2", from: try PhoneNumber.e164("+74957654321"), at: Self.t + .seconds(10)))
        let second = try await world.lead("c2")
        #expect(second.dealerID == "moscow-south")
        #expect(second.dealerReason?.contains("moscow-north") == true || second.dealerReason?.contains("region +7 495") == true)
    }

    @Test("the decision FastAGI made for the call (same call id) is the lead's: no second decision, no second line")
    func fastAGIDecisionIsTaken() async throws {
        let world = try await Self.world("dealer-agi")
        defer { world.stop() }
        // The dialplan asked first; its decision (here the sticky one it was told) holds south's line under the Linkedid.
        let agi = world.routing.route(
            RoutingRequest(site: "acme", caller: Self.muscovite, at: Self.t, stickyDealer: "moscow-south"), call: "1700000000.1")
        #expect(agi.dealer == "moscow-south")
        await world.leads.handle(Self.ringing("1700000000.1", from: Self.muscovite))
        let lead = try await world.lead("1700000000.1")
        #expect(lead.dealerID == "moscow-south")
        #expect(lead.dealerRule == .sticky)
        #expect(lead.dealerReason == agi.reason)
        #expect(world.routing.busyLines() == ["moscow-south": 1], "one line, held once")
    }

    @Test("sticky dealer: a repeat caller goes back to the dealer who handled them, unless that dealer is full")
    func stickyDealerWinsUnlessFull() async throws {
        let world = try await Self.world("dealer-sticky")
        defer { world.stop() }
        // First call: north (weight 3) is picked, and a failover leg at south answers: the lead is south's.
        let first = Self.ringing("c1", from: Self.muscovite)
        await world.leads.handle(first)
        await world.leads.handle(Self.ended(first, answeredBy: "PJSIP/dealer-13"))
        let answered = try await world.lead("c1")
        #expect(answered.dealerID == "moscow-south", "credited to the dealer whose leg answered")
        #expect(answered.dealerReason?.contains("answered by moscow-south (chosen moscow-north did not answer)") == true,
                "\(answered.dealerReason ?? "-")")

        // A day later the same person calls again: south handled them, and south is free.
        let again = Self.ringing("c2", from: Self.muscovite, at: Self.t + .seconds(86_400))
        await world.leads.handle(again)
        let sticky = try await world.lead("c2")
        #expect(sticky.dealerID == "moscow-south")
        #expect(sticky.dealerRule == .sticky)
        await world.leads.handle(Self.ended(again, answeredBy: "Local/213@dealers"))
        #expect(try await world.lead("c2").dealerID == "moscow-south", "south's second target is south's too")

        // South busy with another caller: the returning caller cannot wait for it.
        await world.leads.handle(Self.ringing("c3", from: try PhoneNumber.e164("+74957654321"), at: Self.t + .seconds(2 * 86_400)))
        await world.leads.handle(Self.ringing("c4", from: try PhoneNumber.e164("+74950001122"), at: Self.t + .seconds(2 * 86_400 + 1)))
        #expect(world.routing.busyLines() == ["moscow-north": 1, "moscow-south": 1])
        await world.leads.handle(Self.ringing("c5", from: Self.muscovite, at: Self.t + .seconds(2 * 86_400 + 2)))
        let full = try await world.lead("c5")
        #expect(full.dealerID == nil, "every Moscow dealer is full")
        #expect(full.dealerRule == RoutingDecision.Rule.none)
        #expect(full.dealerReason?.contains("sticky dealer moscow-south full") == true, "\(full.dealerReason ?? "-")")
    }

    @Test("a site no routing dealer serves keeps its fixed dealer, or none")
    func siteWithoutDealers() async throws {
        let world = try await Self.world("dealer-plain")
        defer { world.stop() }
        await world.leads.handle(Self.ringing("c1", from: Self.petersburger, to: Self.otherSiteNumber))
        let lead = try await world.lead("c1")
        #expect(lead.dealerID == "plain-dealer" && lead.dealerRule == .site)
        #expect(world.routing.busyLines().isEmpty)

        let bare = try await Self.world("dealer-bare", plainDealer: nil)
        defer { bare.stop() }
        await bare.leads.handle(Self.ringing("c1", from: Self.petersburger, to: Self.otherSiteNumber))
        let none = try await bare.lead("c1")
        #expect(none.dealerID == nil && none.dealerRule == nil && none.dealerReason == nil)
    }
}
