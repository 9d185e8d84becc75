import CallTrackApp
import CallTrackCore
import CoreMetrics
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing
import TestSupport

@Suite("POST /v1/sessions over a real socket")
struct SessionAPITests {
    @Test("a session gets a pool number, stored before the answer; the same session keeps it")
    func leaseIsDurableAndSticky() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            let first = try await client.allocate(#"{"site":"acme","session_id":"sess_aaaaaaaa","visitor_id":"vis_aaaaaaaa"}"#)
            #expect(first.status == .ok)
            #expect(first.answer?.kind == "pool")
            #expect(first.answer?.display.hasPrefix("+7 (495) 000-01-") == true)
            #expect(try await daemon.store.count("lease") == 1)
            let stored = try await daemon.store.session("sess_aaaaaaaa")
            #expect(stored?.number.e164 == first.answer?.number)

            let again = try await client.allocate(#"{"site":"acme","session_id":"sess_aaaaaaaa","visitor_id":"vis_aaaaaaaa"}"#)
            #expect(again.answer?.number == first.answer?.number)
            #expect(try await daemon.store.count("lease") == 1)
        }
    }

    @Test("ga_session_id: GA4's session number is kept with the visit; anything else is dropped, never an error for the visitor")
    func gaSessionIDIsKeptOnlyWhenItIsANumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let metrics = RecordingMetrics()
        try await withMetricsFactory(metrics) { try await TestDaemon.with(TestDaemon.config(numbers: 10, dir: dir)) { daemon, client in
            let good = try await client.allocate(#"{"site":"acme","session_id":"sess_ga4good1","ga_client_id":"123.456","ga_session_id":"1789999123"}"#)
            #expect(good.status == .ok)
            let stored = try await daemon.store.session("sess_ga4good1")
            #expect(stored?.gaSessionID == "1789999123" && stored?.gaClientID == "123.456")
            for (n, bad) in ["GS2.1.s1789999123$o1", "12ab", "0", "123456789012345678901", " "].enumerated() {
                let session = "sess_ga4bad0\(n)"
                let answer = try await client.allocate(#"{"site":"acme","session_id":"\#(session)","ga_session_id":"\#(bad)"}"#)
                #expect(answer.status == .ok && answer.answer?.kind == "pool", "'\(bad)' is no reason to refuse the visit")
                let kept = try await daemon.store.session(session)
                #expect(kept != nil && kept?.gaSessionID == nil, "'\(bad)' is not kept")
            }
            #expect(metrics.value("calltrackd_snippet_bad_values_total", [("field", "ga_session_id")]) == 4,
                    "four bad values counted (a blank one is no value)")
        } }
    }

    @Test("a visit without usable ids gets ids made as the snippet makes them: time first, so later ones sort after")
    func serverMadeIDsAreTimeOrdered() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        try await TestDaemon.with(TestDaemon.config(dir: dir), clock: clock) { daemon, client in
            let first = try await client.allocate(#"{"site":"acme"}"#)
            clock.advance(by: .milliseconds(1))
            let second = try await client.allocate(#"{"site":"acme","session_id":"bad id!","visitor_id":"x"}"#)
            let ids = try #require(first.answer.map { [$0.session_id, $0.visitor_id] }) + (second.answer.map { [$0.session_id, $0.visitor_id] } ?? [])
            #expect(ids.count == 4)
            #expect(TimeOrderedID.time(of: ids[0], prefix: "s") == clock.now() - .milliseconds(1))
            #expect(TimeOrderedID.time(of: ids[1], prefix: "v") == clock.now() - .milliseconds(1))
            #expect(TimeOrderedID.time(of: ids[2], prefix: "s") == clock.now())
            #expect(ids[0] < ids[2] && ids[1] < ids[3])
            #expect(try await daemon.store.session(ids[2])?.visitorID == ids[3])
        }
    }

    @Test("UTM tags and click ids come from the landing URL's query when the body has none: first of each, decoded, fragment ignored")
    func sourceFromLandingURL() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(dir: dir)) { daemon, client in
            let url = "https://acme.example/pumps?x=1&utm_source=google&utm_source=bing&utm_medium=c%70c&utm_campaign=spring+sale" +
                "&utm_term&utm_content=&gclid=Cj0K%3D%3D&utmz_source=no&yclid=42#fbclid=fragment"
            _ = try await client.allocate(#"{"site":"acme","session_id":"sess_landing1","utm_medium":"email","landing_url":"\#(url)"}"#)
            let source = try #require(try await daemon.store.session("sess_landing1")?.source)
            #expect(source.utmSource == "google", "the first of a repeated key")
            #expect(source.utmMedium == "email", "the body's own tag wins over the URL's")
            #expect(source.utmCampaign == "spring sale")
            #expect(source.utmTerm == nil && source.utmContent == nil, "a key without a value is absent")
            #expect(source.clickIDs.gclid == "Cj0K==")
            #expect(source.clickIDs.yclid == "42")
            #expect(source.clickIDs.fbclid == nil, "the fragment is not the query")
            #expect(source.landingURL == url)

            _ = try await client.allocate(#"{"site":"acme","session_id":"sess_landing2","landing_url":"https://acme.example/?utm_source=%E2%82%AC&msclkid=%zz"}"#)
            let odd = try #require(try await daemon.store.session("sess_landing2")?.source)
            #expect(odd.utmSource == "€")
            #expect(odd.clickIDs.msclkid == "%zz", "a value that does not decode is kept as sent")
        }
    }

    @Test("a returning visitor gets its previous number again once its lease ended")
    func returningVisitorGetsPreviousNumber() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        try await TestDaemon.with(TestDaemon.config(numbers: 3, dir: dir), clock: clock) { _, client in
            let first = try await client.allocate(#"{"site":"acme","session_id":"sess_first01","visitor_id":"vis_return1"}"#)
            _ = try await client.allocate(#"{"site":"acme","session_id":"sess_other01","visitor_id":"vis_other01"}"#)
            clock.advance(by: .seconds(3 * 86_400))
            let back = try await client.allocate(#"{"site":"acme","session_id":"sess_second1","visitor_id":"vis_return1"}"#)
            #expect(back.answer?.kind == "pool")
            #expect(back.answer?.number == first.answer?.number)
        }
    }

    @Test("the pool full: the site's default number, marked as fallback with reason exhausted")
    func exhaustionFallsBack() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(numbers: 2, dir: dir)) { _, client in
            var numbers: Set<String> = []
            for index in 0..<2 {
                let answer = try await client.allocate(#"{"site":"acme","session_id":"sess_full000\#(index)"}"#).answer
                numbers.insert(answer?.number ?? "")
            }
            #expect(numbers.count == 2)
            let third = try await client.allocate(#"{"site":"acme","session_id":"sess_full0009"}"#)
            #expect(third.answer?.kind == "fallback")
            #expect(third.answer?.reason == "exhausted")
            #expect(third.answer?.number == "+74950000000")
        }
    }

    @Test("share policy: a full pool hands out the longest-idle number to a second session")
    func sharePolicyShares() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        try await TestDaemon.with(TestDaemon.config(numbers: 1, policy: "share", dir: dir)) { daemon, client in
            let first = try await client.allocate(#"{"site":"acme","session_id":"sess_share001"}"#)
            let second = try await client.allocate(#"{"site":"acme","session_id":"sess_share002"}"#)
            #expect(second.answer?.kind == "pool")
            #expect(second.answer?.number == first.answer?.number)
            #expect(try await daemon.store.count("lease") == 2)
        }
    }

    @Test("ping keeps a lease alive; a session without one gets 404")
    func pingKeepsAlive() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = ManualClock()
        try await TestDaemon.with(TestDaemon.config(dir: dir), clock: clock) { _, client in
            let first = try await client.allocate(#"{"site":"acme","session_id":"sess_ping0001"}"#)
            for _ in 0..<5 {
                clock.advance(by: .seconds(15 * 60))
                let status = try await client.execute(
                    uri: "/v1/sessions/sess_ping0001/ping", method: .post, body: ByteBuffer(string: #"{"site":"acme"}"#)
                ) { $0.status }
                #expect(status == .ok)
            }
            // 75 minutes after the start the lease is still the same one: idle TTL is 20 minutes.
            let again = try await client.allocate(#"{"site":"acme","session_id":"sess_ping0001"}"#)
            #expect(again.answer?.number == first.answer?.number)
            let missing = try await client.execute(
                uri: "/v1/sessions/sess_nolease1/ping", method: .post, body: ByteBuffer(string: #"{"site":"acme"}"#)
            ) { $0.status }
            #expect(missing == .notFound)
        }
    }
}
