import CallTrackApp
import CallTrackCore
import CoreMetrics
import Destinations
import Foundation
import Testing
import TestSupport
import WebhookSender
import Webhooks

/// A real HTTPS receiver (self-signed certificate, trusted through the endpoint's `ca_file`) behind the real
/// delivery loop: it answers 500 for a while, then 200. Every change arrives, each lead's in order, none lost;
/// retries follow the exponential schedule on the injected clock; a change that keeps failing becomes a dead
/// letter, and `calltrackd webhooks replay` sends it again.
@Suite(.timeLimit(.minutes(3)))
struct WebhookDeliveryTests {
    /// Each lead's versions as the receiver took them, in arrival order.
    static func versionsByLead(_ requests: [WebhookReceiver.Request]) -> [String: [Int64]] {
        var versions: [String: [Int64]] = [:]
        for request in requests { versions[request.callID, default: []].append(request.leadVersion) }
        return versions
    }

    @Test func anEndpointDownForAWhileGetsEveryChangeInOrderOnceItIsBack() async throws {
        let directory = TemporaryDirectory("webhook-down")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        // Down for the first 5 attempts (whatever they carry), then up.
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock) { _, _, index in index < 5 ? 500 : 200 }
        let rig = try await WebhookRig(receiverURL: receiver.url, trusting: receiver.certificate, directory: directory, clock: clock, concurrency: 1)
        defer { Task { await receiver.close(); await rig.close() } }

        var ids = try await rig.store((0..<20).map { lead($0, at: clock.now()) })
        ids += try await rig.store((0..<10).map { lead($0, revision: 2, at: clock.now()) })
        let delivery = rig.delivery()
        try await running(delivery) {
            // One lane at a time (concurrency 1): the one failing change sleeps 1, 2, 4, 8, 16 s on the clock.
            for (n, delay) in [1, 2, 4, 8, 16].enumerated() {
                try await clock.advance(by: .seconds(Int64(delay)), firing: "retry \(n + 1) after \(delay) s")
            }
            try await waitUntilDone(delivery, through: ids.last!, "every change delivered once the endpoint is back")
        }

        let requests = receiver.requests
        #expect(requests.allSatisfy { $0.signatureValid }, "every request carries a valid signature")
        #expect(requests.prefix(6).map { $0.at - requests[0].at } == [0, 1, 3, 7, 15, 31].map { Duration.seconds($0) },
                "attempts of the failing change at the backoff schedule (1, 2, 4, 8, 16 s)")
        #expect(requests.prefix(6).allSatisfy { $0.deliveryID == "crm:\(ids[0])" }, "the first change is retried, not skipped")
        let accepted = receiver.accepted
        #expect(Set(accepted.map(\.changeID)) == Set(ids), "every change arrived")
        #expect(accepted.count == ids.count, "each once (no batch was cut short)")
        // One lane per lead in the order of their first change, each lane in outbox order; one lane at a time.
        var lanes: [Int64] = []
        for n in 0..<20 {
            lanes.append(ids[n])
            if n < 10 { lanes.append(ids[20 + n]) }
        }
        #expect(accepted.map(\.changeID) == lanes, "lead by lead, each lead's changes in order")
        for (call, versions) in Self.versionsByLead(accepted) {
            #expect(versions == versions.sorted(), "\(call)'s versions never go back: \(versions)")
        }
        #expect(try await rig.ledger.outbox.stats(for: rig.endpoint.destinationName).pending == 0)
        #expect(try await rig.ledger.outbox.failed(for: rig.endpoint.destinationName).isEmpty)
        for request in accepted.prefix(3) {
            let problems = try OpenAPIDocument.shared.get().webhookProblems("leadChanged", body: request.body)
            #expect(problems.isEmpty, "the payload is the documented one: \(problems)")
            #expect(request.headers["x-calltrackd-event"] == "lead.changed")
            #expect(request.headers["x-calltrackd-delivery"] == request.deliveryID)
            #expect(request.headers["content-type"] == "application/json")
        }
    }

    @Test func aRetryingLeadHoldsUpNoOtherLeadOfItsBatchAndEachLeadArrivesInOrder() async throws {
        let directory = TemporaryDirectory("webhook-flaky")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        // call-3 is refused twice per change, every other lead taken at once.
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock) { attempt, call, _ in
            call == "call-3" && attempt <= 2 ? 500 : 200
        }
        let rig = try await WebhookRig(receiverURL: receiver.url, trusting: receiver.certificate, directory: directory, clock: clock, concurrency: 8)
        defer { Task { await receiver.close(); await rig.close() } }

        let delivery = rig.delivery()
        var stored: [Int64] = []
        try await running(delivery) {
            // Three rounds, each a batch: every lead's first version, every lead's second, then a third of two leads.
            for round in [(0..<20).map { lead($0, at: clock.now()) },
                          (0..<20).map { lead($0, revision: 2, at: clock.now()) },
                          [lead(3, revision: 3, at: clock.now()), lead(5, revision: 3, at: clock.now())]] {
                let before = receiver.requests.count
                let ids = try await rig.store(round)
                stored += ids
                // Only call-3's lane sleeps: 1 s after its first refusal, 2 s after its second. Before its last
                // try, every other lead of the batch has arrived: they did not wait for it.
                try await clock.advance(by: .seconds(1), firing: "call-3's first retry")
                try await within(.seconds(90), waitingFor: "the batch's other leads while call-3 waits for its second retry") {
                    await receiver.waitForRequests(before + round.count - 1 + 2)
                }
                try await clock.advance(by: .seconds(2), firing: "call-3's second retry")
                try await waitUntilDone(delivery, through: ids.last!, "the round's batch")
            }
        }

        let accepted = receiver.accepted
        #expect(receiver.requests.allSatisfy { $0.signatureValid })
        #expect(Set(accepted.map(\.changeID)) == Set(stored), "every change arrived")
        #expect(accepted.count == stored.count)
        let versions = Self.versionsByLead(accepted)
        #expect(versions["call-3"] == [1, 2, 3] && versions["call-5"] == [1, 2, 3] && versions["call-7"] == [1, 2], "\(versions)")
        for (call, list) in versions { #expect(list == list.sorted(), "\(call) in order: \(list)") }
        #expect(receiver.requests.filter { $0.callID == "call-3" }.count == 9, "three tries of each of call-3's three changes")
        // In the first batch, every other lead was taken before call-3's change finally was (it waited on the clock).
        let firstCall3 = try #require(accepted.firstIndex { $0.callID == "call-3" })
        #expect(Set(accepted[..<firstCall3].map(\.callID)).count == 19, "the other 19 leads did not wait for call-3")
    }

    @Test func aChangeRefusedNTimesBecomesADeadLetterAndReplayBringsItBack() async throws {
        let directory = TemporaryDirectory("webhook-dead")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock) { _, call, _ in call == "call-4" ? 500 : 200 }
        let metrics = RecordingMetrics()
        let rig = try await withMetricsFactory(metrics) {
            try await WebhookRig(receiverURL: receiver.url, trusting: receiver.certificate, directory: directory, clock: clock,
                                 concurrency: 2, deadLetterAfter: 3)
        }
        defer { Task { await receiver.close(); await rig.close() } }
        let name = rig.endpoint.destinationName
        let since = clock.now()
        let ids = try await rig.store((0..<10).map { lead($0, at: clock.now()) })

        let first = rig.delivery()
        try await running(first) {
            try await clock.advance(by: .seconds(1), firing: "call-4's first retry")
            try await clock.advance(by: .seconds(2), firing: "call-4's second retry")
            try await waitUntilDone(first, through: ids.last!, "the batch, with call-4 set aside")
        }
        let dead = try await rig.ledger.outbox.failed(for: name)
        #expect(dead.map(\.entry.key) == ["call-4"])
        #expect(dead.first?.error == "dead letter after 3 failed attempts; last: the endpoint answered 500")
        #expect(receiver.requests.filter { $0.callID == "call-4" }.count == 3, "3 attempts, then no more")
        #expect(Set(receiver.accepted.map(\.callID)).count == 9, "the other leads arrived")
        #expect(metrics.value("calltrackd_webhook_dead_letters_total", [("endpoint", "crm")]) == 1)
        #expect(metrics.value("calltrackd_webhook_failed_attempts_total", [("endpoint", "crm")]) == 3)
        #expect(rig.log.lines.contains { $0.contains("dead letter") && $0.contains("webhook.endpoint=crm") }, "\(rig.log.lines)")

        let status = try await WebhookCommands.status(config: rig.config, now: clock.now(), json: false)
        let row = try #require(status.first { $0.hasPrefix("crm ") }, "\(status)")
        #expect(row.split(separator: " ", omittingEmptySubsequences: true).map(String.init).prefix(4) == ["crm", "\(ids.last!)", "0", "-"], "\(row)")
        #expect(status.contains { $0.contains("last dead letter: change \(dead[0].entry.id): dead letter after 3 failed attempts") }, "\(status)")
        let json = try await WebhookCommands.status(config: rig.config, now: clock.now(), json: true)
        #expect(json.first?.contains("\"dead_letters\":1") == true, "\(json)")

        // The receiver is fixed; the operator replays what came since the batch (the daemon stopped).
        receiver.setPolicy { _, _, _ in 200 }
        await #expect(throws: WebhookCommands.Refused.self) {
            _ = try await WebhookCommands.replay(config: rig.config, endpoint: "erp", since: since, now: clock.now())
        }
        let lines = try await WebhookCommands.replay(config: rig.config, endpoint: "crm", since: since, now: clock.now())
        #expect(lines.first?.contains("10 change(s) now wait") == true, "\(lines)")
        #expect(try await rig.ledger.outbox.failed(for: name).isEmpty, "no longer a dead letter")

        let before = receiver.requests.count
        let second = rig.delivery()
        try await running(second) {
            try await waitUntilDone(second, through: ids.last!, "the replayed changes")
            await receiver.waitForRequests(before + 10)
        }
        let replayed = receiver.requests[before...]
        #expect(replayed.map(\.changeID).sorted() == ids, "every change since the time went again, call-4's too")
        #expect(replayed.allSatisfy { $0.status == 200 })
        #expect(try await rig.ledger.outbox.stats(for: name) == OutboxStats(pending: 0, failed: 0, oldestPendingAt: nil))
    }
}
