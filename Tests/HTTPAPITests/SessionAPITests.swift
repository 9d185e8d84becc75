import CallTrackApp
import CallTrackCore
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
