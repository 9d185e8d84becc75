import Analytics
import AnalyticsSender
import CallTrackApp
import CallTrackCore
import CoreMetrics
import Destinations
import Foundation
import Testing
import TestSupport

/// A GA4 property behind the real delivery loop, a real SQLite state and a local receiver that checks every
/// payload against the documented Measurement Protocol shape and answers 500 for a while, then 204. Leads come
/// at several revisions; each conversion arrives exactly once; junk and unwanted match kinds never.
@Suite(.timeLimit(.minutes(3)))
struct GA4DeliveryTests {
    /// (call id, event name) of each accepted request, in arrival order.
    static func events(_ requests: [GA4Receiver.Request]) -> [String] {
        requests.map { "\($0.callID) \($0.eventName)" }
    }

    @Test func eachQualifiedCallAndWonDealArrivesOnceWhateverTheRevisionsAndNothingElseDoes() async throws {
        let clock = ManualClock(at: .seconds(1_790_000_000))
        // Down for the first 3 requests (the first event's first three attempts), then up.
        let receiver = try await GA4Receiver.start(clock: clock, measurementID: measurementID, apiSecret: apiSecret) { index, _ in index < 3 ? 500 : 204 }
        let metrics = RecordingMetrics()
        let rig = try withMetricsFactory(metrics) { try GA4Rig(endpoint: receiver.endpoint, clock: clock) }
        defer { Task { await receiver.close(); await rig.close() } }
        let t0 = clock.now()
        let started = t0 - .seconds(300)
        try await rig.visits((1...9).map { visit($0, ga: $0 != 6, at: t0) })

        let delivery = rig.delivery()
        try await running(delivery) {
            // Round 1: the calls as they first reach the outbox.
            let first = try await rig.store([
                lead(1, startedAt: started, now: t0),                          // exact, ended: call event
                lead(2, ended: false, startedAt: started, now: t0),            // still ringing: nothing yet
                lead(3, kind: .shared, startedAt: started, now: t0),           // a collision: not a default kind
                lead(4, junk: .shortTalk, startedAt: started, now: t0),        // junk
                lead(5, kind: .late, startedAt: started, now: t0),             // late: call event
                lead(6, startedAt: started, now: t0),                          // no _ga on the visit: skipped
                lead(7, startedAt: t0 - .seconds(4 * 86_400), now: t0),        // 4 days old: skipped
                lead(8, startedAt: started, now: t0),                          // exact: call event
                lead(9, kind: .repeat, startedAt: started, now: t0),           // repeat (a known caller): call event
            ])
            // The first event is refused three times: it waits 1, 2 and 4 s on the clock, then goes through.
            for (n, delay) in [1, 2, 4].enumerated() {
                try await clock.advance(by: .seconds(Int64(delay)), firing: "retry \(n + 1) after \(delay) s")
            }
            try await waitUntilDone(delivery, through: first.last!, "round 1")

            // Round 2: call-1 won, call-2 ended, call-3 won (still shared), call-4 won (still junk), call-8 lost.
            let now2 = clock.now()
            let second = try await rig.store([
                lead(1, revision: 2, outcomes: [won("12500.50", at: now2 - .seconds(30))], startedAt: started, now: now2),
                lead(2, revision: 2, startedAt: started, now: now2),
                lead(3, revision: 2, kind: .shared, outcomes: [won("900", at: now2)], startedAt: started, now: now2),
                lead(4, revision: 2, junk: .shortTalk, outcomes: [won("900", at: now2)], startedAt: started, now: now2),
                lead(8, revision: 2, outcomes: [lost(at: now2)], startedAt: started, now: now2),
            ])
            try await waitUntilDone(delivery, through: second.last!, "round 2")

            // Round 3: call-8 corrected from lost to won; call-1 changes again (its deal as it was).
            clock.advance(by: .seconds(60))
            let now3 = clock.now()
            let third = try await rig.store([
                lead(8, revision: 3, outcomes: [won("3000", at: now3), lost(at: now2)], startedAt: started, now: now3),
                lead(1, revision: 3, outcomes: [won("12500.50", at: now2 - .seconds(30))], startedAt: started, now: now3),
            ])
            try await waitUntilDone(delivery, through: third.last!, "round 3")
        }

        let requests = receiver.requests
        for request in requests { #expect(request.problems.isEmpty, "request \(request.index) breaks the documented shape: \(request.problems)") }
        #expect(Self.events(requests.prefix(4).map { $0 }) == Array(repeating: "call-1 calltrackd_call", count: 4), "the refused event is retried, not skipped")
        let accepted = receiver.accepted
        #expect(Self.events(accepted).sorted() == [
            "call-1 calltrackd_call", "call-1 purchase", "call-2 calltrackd_call", "call-5 calltrackd_call", "call-8 calltrackd_call",
            "call-8 purchase", "call-9 calltrackd_call",
        ], "each qualified call and each won deal once; shared, junk, no _ga and too old never")

        let call = try #require(accepted.first { $0.callID == "call-1" && $0.eventName == "calltrackd_call" })
        #expect(call.clientID == "1000001.1789990000")
        #expect(call.timestampMicros == started.microsecondsSinceEpoch, "stamped with the call's start")
        #expect(call.params["session_id"] as? String == "1789999001")
        #expect(call.params["match_kind"] as? String == "exact")
        #expect(call.params["value"] == nil, "no call_value configured")
        let purchase = try #require(accepted.first { $0.callID == "call-1" && $0.eventName == "purchase" })
        #expect(purchase.params["transaction_id"] as? String == "call-1")
        #expect(purchase.params["currency"] as? String == "RUB")
        #expect((purchase.params["value"] as? NSNumber)?.doubleValue == 12500.5)
        #expect(String(decoding: purchase.body, as: UTF8.self).contains(#""value":12500.50,"#), "the amount exactly as stored")
        #expect(purchase.timestampMicros == (t0 + .seconds(7) - .seconds(30)).microsecondsSinceEpoch, "stamped with the deal's win")
        #expect(requests.allSatisfy { $0.target.contains("measurement_id=\(measurementID)") && $0.target.contains("api_secret=\(apiSecret)") })

        let labels = [("property", "main")]
        #expect(metrics.value("calltrackd_ga4_events_sent_total", labels + [("kind", "call")]) == 5)
        #expect(metrics.value("calltrackd_ga4_events_sent_total", labels + [("kind", "won")]) == 2)
        #expect(metrics.value("calltrackd_ga4_events_skipped_total", labels + [("reason", "no_client_id")]) == 1)
        #expect(metrics.value("calltrackd_ga4_events_skipped_total", labels + [("reason", "too_old")]) == 1)
        #expect(metrics.value("calltrackd_ga4_failed_attempts_total", labels) == 3)
        #expect(rig.log.lines.contains { $0.contains("GA4 conversion skipped") && $0.contains("call.id=call-6") && $0.contains("no_client_id") }, "\(rig.log.lines)")
        #expect(rig.log.lines.contains { $0.contains("GA4 conversion skipped") && $0.contains("call.id=call-7") && $0.contains("too_old") })

        let recorded = try await rig.ledger.conversions(of: "ga4:main", callIDs: (1...9).map { "call-\($0)" })
        #expect(recorded.map { "\($0.callID) \($0.kind.rawValue) \($0.outcome.rawValue) \($0.reason ?? "-")" } == [
            "call-1 call sent -", "call-1 won sent -", "call-2 call sent -", "call-5 call sent -", "call-6 call skipped no_client_id",
            "call-7 call skipped too_old", "call-8 call sent -", "call-8 won sent -", "call-9 call sent -",
        ])
        #expect(try await rig.ledger.outbox.stats(for: "ga4:main").pending == 0)
        #expect(try await rig.ledger.outbox.failed(for: "ga4:main").isEmpty)
    }

    @Test func anEventRefusedNTimesIsADeadLetterAndTheLeadsNextChangeSendsIt() async throws {
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await GA4Receiver.start(clock: clock, measurementID: measurementID, apiSecret: apiSecret) { _, request in
            request.callID == "call-1" ? 503 : 204
        }
        let metrics = RecordingMetrics()
        let rig = try withMetricsFactory(metrics) { try GA4Rig(endpoint: receiver.endpoint, clock: clock, deadLetterAfter: 2) }
        defer { Task { await receiver.close(); await rig.close() } }
        let t0 = clock.now()
        try await rig.visits([visit(1, at: t0), visit(2, at: t0)])

        let delivery = rig.delivery()
        let last = try await running(delivery) {
            let ids = try await rig.store([lead(1, startedAt: t0 - .seconds(100), now: t0), lead(2, startedAt: t0 - .seconds(100), now: t0)])
            try await clock.advance(by: .seconds(1), firing: "call-1's retry")
            try await waitUntilDone(delivery, through: ids.last!, "the batch, call-1 set aside")
            let dead = try await rig.ledger.outbox.failed(for: "ga4:main")
            #expect(dead.map(\.entry.key) == ["call-1"])
            #expect(dead.first?.error == "GA4 event calltrackd_call: dead letter after 2 failed attempts; last: the endpoint answered 503")
            #expect(metrics.value("calltrackd_ga4_dead_letters_total", [("property", "main")]) == 1)
            #expect(Self.events(receiver.accepted) == ["call-2 calltrackd_call"], "the other lead arrived")

            // GA4 is back; the lead's next change (the call's recording, a CRM note…) sends the event it still owes.
            receiver.setPolicy { _, _ in 204 }
            let again = try await rig.store([lead(1, revision: 2, startedAt: t0 - .seconds(100), now: clock.now())])
            try await waitUntilDone(delivery, through: again.last!, "call-1's next change")
            return again.last!
        }
        #expect(Self.events(receiver.accepted) == ["call-2 calltrackd_call", "call-1 calltrackd_call"])
        #expect(receiver.requests.allSatisfy { $0.problems.isEmpty })

        // `calltrackd ga4`: the dead letter stays counted on the cursor; both calls are sent.
        var config = AppConfig()
        config.dataDirectory = rig.directory.path
        config.ga4 = [rig.property]
        let status = try await GA4Commands.status(config: config, now: clock.now(), json: false)
        let row = try #require(status.first { $0.hasPrefix("main ") }, "\(status)")
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).map(String.init) == ["main", "\(last)", "0", "-", "1", "2", "0", "-"], "\(row)")
        let json = try await GA4Commands.status(config: config, now: clock.now(), json: true)
        #expect(json.first?.contains("\"calls_sent\":2") == true && json.first?.contains("\"dead_letters\":1") == true, "\(json)")
    }

    @Test func anEventThatAgesPastGA4sBackdatingWhileGA4IsDownIsSkippedNotDeadLettered() async throws {
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await GA4Receiver.start(clock: clock, measurementID: measurementID, apiSecret: apiSecret) { _, _ in 500 }
        let metrics = RecordingMetrics()
        let rig = try withMetricsFactory(metrics) { try GA4Rig(endpoint: receiver.endpoint, clock: clock) }
        defer { Task { await receiver.close(); await rig.close() } }
        let t0 = clock.now()
        try await rig.visits([visit(1, at: t0)])
        let delivery = rig.delivery()
        try await running(delivery) {
            // Two seconds short of the limit: the first attempt goes out and is refused, the retry 1 s later too,
            // and when the next one is due (2 s later) the call is older than GA4 takes.
            let ids = try await rig.store([lead(1, startedAt: t0 - GA4Request.maxBackdating + .seconds(2), now: t0)])
            try await clock.advance(by: .seconds(1), firing: "the first retry")
            try await clock.advance(by: .seconds(2), firing: "the second retry")
            try await waitUntilDone(delivery, through: ids.last!, "the call skipped as too old")
        }
        #expect(receiver.requests.count == 2, "two attempts while it was young enough")
        #expect(receiver.requests.allSatisfy { $0.problems.isEmpty })
        #expect(metrics.value("calltrackd_ga4_events_skipped_total", [("property", "main"), ("reason", "too_old")]) == 1)
        #expect((metrics.value("calltrackd_ga4_dead_letters_total", [("property", "main")]) ?? 0) == 0)
        #expect(try await rig.ledger.outbox.failed(for: "ga4:main").isEmpty, "not a dead letter: nothing to send again")
        #expect(try await rig.ledger.conversions(of: "ga4:main", callIDs: ["call-1"]).map(\.reason) == ["too_old"])
    }

    @Test func aConfiguredCallValueAndARecommendedEventNameAreSent() async throws {
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await GA4Receiver.start(clock: clock, measurementID: measurementID, apiSecret: apiSecret)
        let rig = try GA4Rig(endpoint: receiver.endpoint, clock: clock) { property in
            property.callEvent = "generate_lead"
            property.callValue = try! Money.parse("1000", currency: "EUR")
            property.wonEvent = "close_convert_lead"
            property.matchKinds = [.shared]
        }
        defer { Task { await receiver.close(); await rig.close() } }
        let t0 = clock.now()
        try await rig.visits([visit(1, at: t0), visit(2, at: t0)])
        let delivery = rig.delivery()
        try await running(delivery) {
            let ids = try await rig.store([
                lead(1, kind: .exact, startedAt: t0 - .seconds(10), now: t0),
                lead(2, kind: .shared, outcomes: [won("77.1", at: t0)], startedAt: t0 - .seconds(10), now: t0),
            ])
            try await waitUntilDone(delivery, through: ids.last!, "the batch")
        }
        let accepted = receiver.accepted
        #expect(Self.events(accepted) == ["call-2 generate_lead", "call-2 close_convert_lead"], "only the kinds configured")
        #expect(accepted.allSatisfy { $0.problems.isEmpty })
        let generated = try #require(accepted.first)
        #expect(String(decoding: generated.body, as: UTF8.self).contains(#""value":1000.00,"currency":"EUR""#))
        let deal = try #require(accepted.last)
        #expect(String(decoding: deal.body, as: UTF8.self).contains(#""value":77.10,"currency":"RUB""#))
    }
}
