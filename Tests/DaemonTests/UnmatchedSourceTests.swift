import CallTrackApp
import CallTrackCore
import Foundation
import Prometheus
import Store
import Testing
import TestSupport

/// A call nobody's visit explains still reaches the CRM with a source: the pool's own (`pool.<id>.default_source`),
/// else the site's, else `utm_source=<site>-phone`.
@Suite("Unmatched calls get the number's own source")
struct UnmatchedSourceTests {
    static func yaml(_ dir: TemporaryDirectory, poolSource: String?, siteSource: String? = nil) throws -> String {
        let path = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.path)" }
            sites: [acme]
            site:
              acme:
                default_number: "+74950000000"
                pools: [acme-main]
            \(siteSource.map { "    default_source: \"\($0)\"" } ?? "")
            pool:
              acme-main:
                numbers: ["+74950000001", "+74950000002"]
            \(poolSource.map { "    default_source: \"\($0)\"" } ?? "")
            """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func ringing(to number: String, id: String) -> CallRecord {
        CallRecord(id: id, revision: 1, trackingNumber: try! PhoneNumber.e164(number), dialled: number,
                   caller: try! PhoneNumber.e164("+79031112233"), callerRaw: "89031112233", callerWithheld: false,
                   startedAt: SystemClock().now())
    }

    @Test("a call to a pool number nobody held: the pool's default source is its first and last touch, kept in SQLite and the admin JSON")
    func poolDefaultSource() async throws {
        let dir = TemporaryDirectory("unmatched-source")
        defer { dir.remove() }
        var config = try await ConfigLoader.load(file: try Self.yaml(dir, poolSource: "utm_source=site-phone&utm_medium=call"), environment: [:])
        config.httpPort = 0
        #expect(config.sites.first?.pools.first?.defaultSource == MarketingSource(utmSource: "site-phone", utmMedium: "call", channel: .direct))
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        await daemon.leads.handle(Self.ringing(to: "+74950000002", id: "call-pool"))
        await daemon.leads.handle(Self.ringing(to: "+74950000000", id: "call-site"))
        let pool = try #require(try await daemon.ledger.lead("call-pool")?.lead)
        #expect(pool.match.kind == .unmatched)
        #expect(pool.firstTouch?.source == "site-phone" && pool.firstTouch?.medium == "call" && pool.firstTouch?.sessionID == nil)
        #expect(pool.lastTouch == pool.firstTouch && pool.journey.isEmpty)
        let site = try #require(try await daemon.ledger.lead("call-site")?.lead)
        #expect(site.match.kind == .unmatched)
        #expect(site.firstTouch?.source == "acme-phone", "the site's own number, no source configured: still not empty")
        let listing = try await LeadListing.lines(config: config, limit: 5, json: false)
        #expect(listing.contains { $0.contains("call-pool") && $0.contains("site-phone / call") })
    }

    @Test("the site's default source covers its pools without one; a source with no utm_source or an unknown tag is refused by key")
    func siteDefaultAndMistakes() async throws {
        let dir = TemporaryDirectory("unmatched-source-config")
        defer { dir.remove() }
        let config = try await ConfigLoader.load(file: try Self.yaml(dir, poolSource: nil, siteSource: "utm_source=acme-site&channel=offline"), environment: [:])
        let site = try #require(config.sites.first)
        #expect(site.unmatchedSource(pool: site.pools.first) == MarketingSource(utmSource: "acme-site", channel: .offline))
        for (bad, says) in [("utm_medium=call", "no utm_source"), ("utm_source=a&gclid=b", "not a source tag"), ("utm_source=a&channel=tv", "not a channel")] {
            let error = await #expect(throws: ConfigProblem.self) {
                _ = try await ConfigLoader.load(file: try Self.yaml(dir, poolSource: bad), environment: [:])
            }
            #expect(error?.key == "pool.acme-main.default_source", "\(bad)")
            #expect(error?.message.contains(says) == true, "\(bad): \(error?.message ?? "")")
        }
    }
}
