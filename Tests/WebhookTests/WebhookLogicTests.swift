import CallTrackApp
import CallTrackCore
import Destinations
import Foundation
import Testing
import TestSupport
import Webhooks

/// The pure parts: the signature (checked against openssl's HMAC), the retry schedule, the dead-letter decision,
/// the URL rule, and how a batch is planned into per-lead lanes.
@Suite struct WebhookLogicTests {
    @Test func theSignatureIsOpenSSLsHMACSHA256OverTimestampDotBody() async throws {
        let body = Array(#"{"type":"lead.changed","lead":{"call_id":"1.2"}}"#.utf8)
        let signature = WebhookSignature.sign(body: body, timestamp: 1_765_123_200, secret: webhookSecret)
        let openssl = try await runProgram(["openssl", "dgst", "-sha256", "-hmac", String(decoding: webhookSecret, as: UTF8.self)],
                                           input: "1765123200." + String(decoding: body, as: UTF8.self))
        #expect(openssl.status == 0, "\(openssl.output)")
        let hex = try #require(openssl.output.split(separator: " ").last).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(signature == "v1=" + hex)
        #expect(WebhookSignature.verify(header: signature, body: body, timestamp: 1_765_123_200, secret: webhookSecret))
        #expect(!WebhookSignature.verify(header: signature, body: body + [0x20], timestamp: 1_765_123_200, secret: webhookSecret), "another body")
        #expect(!WebhookSignature.verify(header: signature, body: body, timestamp: 1_765_123_201, secret: webhookSecret), "another time")
        #expect(!WebhookSignature.verify(header: signature, body: body, timestamp: 1_765_123_200, secret: Array("other-secret-0123456".utf8)))
    }

    @Test func retriesDoubleUpToTheMaximumWithEqualJitter() {
        let schedule = RetrySchedule(initial: .seconds(1), maximum: .seconds(300))
        #expect((1...10).map { schedule.delay(afterFailure: $0, jitter: 1) }
                == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300].map { Duration.seconds($0) })
        #expect(schedule.delay(afterFailure: 3, jitter: 0) == .seconds(2), "never less than half the schedule")
        #expect(schedule.delay(afterFailure: 3, jitter: 0.5) == .seconds(3))
        #expect(schedule.delay(afterFailure: 1_000, jitter: 1) == .seconds(300), "no overflow after many failures")
        #expect(schedule.delay(afterFailure: 2, jitter: .nan) == .seconds(2), "a bad draw counts as 1")
    }

    @Test func aChangeBecomesADeadLetterAfterNConsecutiveFailures() {
        var attempts = EntryAttempts(deadLetterAfter: 3, schedule: RetrySchedule(initial: .milliseconds(500), maximum: .seconds(60)))
        #expect(attempts.failed(jitter: 1) == .retry(after: .milliseconds(500)))
        #expect(attempts.failed(jitter: 1) == .retry(after: .seconds(1)))
        #expect(attempts.failed(jitter: 1) == .deadLetter(failures: 3))
        var once = EntryAttempts(deadLetterAfter: 0, schedule: RetrySchedule())
        #expect(once.failed(jitter: 1) == .deadLetter(failures: 1), "at least one attempt")
    }

    @Test(arguments: [
        ("https://crm.example.com/hooks", nil),
        ("HTTPS://crm.example.com:8443/hooks?x=1", nil),
        ("http://127.0.0.1:9000/hook", nil),
        ("http://localhost/hook", nil),
        ("http://[::1]:8080/hook", nil),
        ("http://crm.example.com/hook", "plain HTTP to another machine"),
        ("http://10.0.0.5/hook", "plain HTTP to another machine"),
        ("ftp://crm.example.com/", "is not an http(s) URL"),
        ("https:///nohost", "names no host"),
        ("https://user:pw@crm.example.com/", "carries credentials"),
        ("https://crm.example.com:99999/", "bad port"),
    ] as [(String, String?)])
    func webhookURLsAreHTTPSOrLoopbackHTTP(url: String, refusal: String?) {
        do {
            _ = try WebhookURL(url)
            #expect(refusal == nil, "\(url) was accepted")
        } catch {
            #expect(refusal.map { error.description.contains($0) } == true, "\(url): \(error)")
        }
    }

    @Test func aBatchIsPlannedIntoOneLanePerLeadInOutboxOrderWithOnlyTheEndpointsSites() throws {
        let t = Timestamp.seconds(1_790_000_000)
        func change(_ id: Int64, _ lead: Lead) -> LeadChange {
            .lead(lead, entry: OutboxEntry(id: id, key: lead.callID, revision: lead.revision, enqueuedAt: t))
        }
        let merge = VisitorMerge(merged: "v-9", survivor: "v-1", reason: "same phone", via: "phone:+79160000001", callID: nil, at: t)
        let changes: [LeadChange] = [
            change(7, lead(1, at: t)), change(8, lead(2, at: t)), change(9, lead(1, revision: 2, at: t)),
            .merge(merge, entry: OutboxEntry(id: 10, key: "merge:v-9", revision: nil, enqueuedAt: t)),
            change(11, lead(3, site: "other", at: t)),
        ]
        let endpoint = WebhookEndpoint(id: "crm", sites: ["acme"], url: try WebhookURL("https://crm.example.com/"), secret: webhookSecret)
        let batch = WebhookBatch.plan(changes, for: endpoint, leadJSON: Daemon.leadJSON)
        #expect(batch.lanes.map { $0.map(\.entryID) } == [[7, 9], [8]])
        #expect(batch.skipped == 2, "the merge and the other site's lead")
        let body = batch.lanes[0][1].body
        let json = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(json["delivery_id"] as? String == "crm:9")
        #expect(json["lead_version"] as? Int == 2)
        #expect(json["occurred_at"] as? String == t.iso8601)
        #expect((json["lead"] as? [String: Any])?["call_id"] as? String == "call-1")
        let problems = try OpenAPIDocument.shared.get().webhookProblems("leadChanged", body: body)
        #expect(problems.isEmpty, "\(problems)")
    }
}
