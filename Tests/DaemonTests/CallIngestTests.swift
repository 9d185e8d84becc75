import AMI
import AMIClient
import CallTrackApp
import CallTrackCore
import Foundation
import Logging
import Prometheus
import Testing
import TestSupport

@Suite("The daemon follows Asterisk: recorded AMI bytes in, stored calls out")
struct CallIngestTests {
    @Test("a replayed answered call is stored ringing, answered and ended, with who answered")
    func answeredCallIsStored() async throws {
        let dir = TemporaryDirectory("ingest")
        defer { dir.remove() }
        let fixture = try AMIFixtures.load("01-answered")
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: try #require(fixture.bytesAfterLogin))])
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.ami = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .md5)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: logger)
        let (stored, storedContinuation) = AsyncStream.makeStream(of: CallRecord.self)
        let running = Task { try await daemon.run(onCallStored: { storedContinuation.yield($0) }) }
        let revisions = try await within(.seconds(60), waitingFor: "the replayed call to end (revision 3)") {
            var revisions: [Int] = []
            for await record in stored {
                revisions.append(record.revision)
                if record.revision == 3 { break }
            }
            return revisions
        }
        running.cancel()
        _ = try? await running.value
        await fake.stop()

        #expect(revisions == [1, 2, 3])
        let call = try #require(try await daemon.store.recentCalls(limit: 10).first)
        let expected = try #require(fixture.expectation.calls.first)
        #expect(call.id == expected.linkedid)
        #expect(call.trackingNumber?.e164 == "+74950000001")
        #expect(call.caller?.e164 == "+79161234567")
        #expect(call.callerName == "Ivan Petrov")
        #expect(call.disposition == "answered")
        #expect(call.answeredBy == "Local/101@agents")
        // Replayed at once without Timestamp headers, so durations are near zero; the times must still be in order.
        #expect(call.answeredAt.map { $0 >= call.startedAt } == true)
        #expect(call.endedAt.map { $0 >= call.answeredAt! } == true)
    }
}
