import CallTrackCore
import Foundation
import Testing
import TestSupport

/// docs/webhooks.md's Python check, as written there, run against requests calltrackd really sent: a fresh one
/// is accepted; the same request more than 5 minutes later (a replay), a changed body or another secret is refused.
@Suite(.timeLimit(.minutes(2)))
struct WebhookExampleTests {
    /// The first ```python block of docs/webhooks.md.
    static func pythonExample() throws -> String {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/webhooks.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        let start = try #require(text.range(of: "```python\n"), "docs/webhooks.md has a Python example")
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test func thePythonExampleAcceptsARealDeliveryAndRefusesAReplay() async throws {
        let directory = TemporaryDirectory("webhook-example")
        let clock = ManualClock(at: .seconds(1_790_000_000))
        let receiver = try await WebhookReceiver.start(in: directory, secret: webhookSecret, clock: clock)
        let rig = try await WebhookRig(receiverURL: receiver.url, trusting: receiver.certificate, directory: directory, clock: clock)
        defer { Task { await receiver.close(); await rig.close() } }
        let ids = try await rig.store([lead(1, at: clock.now()), lead(2, at: clock.now())])
        let delivery = rig.delivery()
        try await running(delivery) { try await waitUntilDone(delivery, through: ids.last!, "two changes delivered") }
        let request = try #require(receiver.accepted.first)
        let timestamp = try #require(request.headers["x-calltrackd-timestamp"])
        let signature = try #require(request.headers["x-calltrackd-signature"])
        #expect(timestamp == "\(clock.now().microsecondsSinceEpoch / 1_000_000)", "signed with the injected clock's time")

        let script = directory.file("verify.py")
        try (Self.pythonExample() + """

            import sys
            secret, timestamp, signature, body_file, now = sys.argv[1:6]
            body = open(body_file, "rb").read()
            print("accepted" if verify(secret.encode(), timestamp, signature, body, float(now)) else "refused")

            """).write(toFile: script, atomically: true, encoding: .utf8)
        let body = directory.file("body.json")
        try Data(request.body).write(to: URL(fileURLWithPath: body))
        let tampered = directory.file("tampered.json")
        try Data(request.body.map { $0 == UInt8(ascii: "1") ? UInt8(ascii: "2") : $0 }).write(to: URL(fileURLWithPath: tampered))
        let secret = String(decoding: webhookSecret, as: UTF8.self)
        let sent = Int64(timestamp)!

        func check(_ secret: String, _ signature: String, _ file: String, now: Int64) async throws -> String {
            let run = try await runProgram(["python3", script, secret, timestamp, signature, file, "\(now)"])
            #expect(run.status == 0, "\(run.output)")
            return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await check(secret, signature, body, now: sent + 2) == "accepted", "a fresh delivery")
        #expect(try await check(secret, signature, body, now: sent + 299) == "accepted", "just under 5 minutes")
        #expect(try await check(secret, signature, body, now: sent + 301) == "refused", "replayed more than 5 minutes later")
        #expect(try await check(secret, signature, tampered, now: sent + 2) == "refused", "a changed body")
        #expect(try await check("another-secret-0123456789", signature, body, now: sent + 2) == "refused", "another secret")
        let other = try #require(receiver.accepted.last)
        #expect(try await check(secret, other.headers["x-calltrackd-signature"] ?? "", body, now: sent + 2) == "refused",
                "another request's signature on this body")
    }
}
