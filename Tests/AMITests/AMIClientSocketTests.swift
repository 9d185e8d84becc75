import AMI
import AMIClient
import CallTrackCore
import CoreMetrics
import Logging
import ServiceLifecycle
import Testing
import TestSupport

/// The real client against a fake Asterisk over TCP.
@Suite("AMI client over a real socket")
struct AMIClientSocketTests {
    static let names = FixtureAssemblyTests.withCalls

    private func configuration(_ fake: FakeAsterisk, _ change: (inout AMIConfiguration) -> Void = { _ in }) -> AMIConfiguration {
        var configuration = AMIConfiguration(
            port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .plain,
            pingInterval: .seconds(30), pingTimeout: .seconds(5),
            backoff: AMIBackoff(initial: .milliseconds(20), maximum: .milliseconds(400))
        )
        change(&configuration)
        return configuration
    }

    /// Runs the client while `body` reads from it, then stops it.
    private func withClient<T: Sendable>(
        _ configuration: AMIConfiguration, logger: Logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
        metrics: RecordingMetrics = RecordingMetrics(),
        _ body: @escaping @Sendable (AMIClientService) async throws -> T
    ) async throws -> T {
        let service = withMetricsFactory(metrics) { AMIClientService(configuration: configuration, logger: logger, jitterSeed: 7) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await service.run(); return nil }
            group.addTask { try await body(service) }
            group.addTask {
                try await Task.sleep(for: .seconds(60))  // a guard so a broken client fails instead of hanging
                throw TimedOut(what: "the client to deliver what the test reads", limit: .seconds(60))
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw TimedOut(what: "a result: the client stopped first", limit: .seconds(60))
        }
    }

    /// Reads call events until `count` calls have ended.
    private static func endedCalls(_ service: AMIClientService, count: Int) async -> (ended: [Call], events: [CallEvent]) {
        var ended: [Call] = []
        var events: [CallEvent] = []
        for await event in service.callEvents {
            events.append(event)
            if case .ended(let call) = event { ended.append(call) }
            if ended.count == count { break }
        }
        return (ended, events)
    }

    /// Reads connection events until `done` holds for those seen so far.
    private static func connectionEvents(_ service: AMIClientService, until done: ([AMIConnectionEvent]) -> Bool) async -> [AMIConnectionEvent] {
        var seen: [AMIConnectionEvent] = []
        for await event in service.connectionEvents {
            seen.append(event)
            if done(seen) { break }
        }
        return seen
    }

    @Test("every transcript replayed over TCP gives the ground-truth calls", arguments: names)
    func replay(name: String) async throws {
        let fixture = try AMIFixtures.load(name)
        var script = FakeAsterisk.Script(replay: try #require(fixture.bytesAfterLogin))
        script.chunking = .random(seed: UInt64(name.utf8.count), max: 4096)
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let md5 = name.contains("md5") || name.hasSuffix("answered")
        let count = fixture.expectation.calls.count
        let ended = try await withClient(configuration(fake) { $0.auth = md5 ? .md5 : .plain }) { service in
            await Self.endedCalls(service, count: count).ended
        }
        #expect(mismatches(ended, fixture.expectation) == [])
        #expect(fake.actions.contains { $0["Action"] == "Login" && (md5 ? $0["Key"] != nil && $0["Secret"] == nil : $0["Secret"] != nil) })
    }

    @Test("one byte per TCP write gives the same calls")
    func byteByByte() async throws {
        let fixture = try AMIFixtures.load("04-collision")
        var script = FakeAsterisk.Script(replay: try #require(fixture.bytesAfterLogin))
        script.chunking = .fixed(1)
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let ended = try await withClient(configuration(fake)) { service in await Self.endedCalls(service, count: 2).ended }
        #expect(mismatches(ended, fixture.expectation) == [])
    }

    @Test("a wrong secret: a clear log line naming the settings, then retries that back off")
    func loginFailure() async throws {
        var script = FakeAsterisk.Script()
        script.secret = "the-right-one"
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let logs = CapturedLogs()
        let events = try await withClient(configuration(fake) { $0.secret = "wrong" }, logger: logs.logger) { service in
            await Self.connectionEvents(service) { $0.filter(\.isReconnecting).count == 4 }
        }
        #expect(events.contains(.closed(.loginRejected(message: "Authentication failed"))))
        let delays = events.compactMap { if case .reconnecting(let delay) = $0 { delay } else { nil } }
        #expect(delays.count == 4)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 < $1 }, "backoff grows: \(delays)")
        #expect(fake.connections <= 5, "no tight loop")
        let line = try #require(logs.all.first { $0.level == .error })
        #expect(line.message.contains("ami.secret") && line.message.contains("ami.username"))
        #expect(line.metadata["ami.message"] == "Authentication failed")
        #expect(!logs.all.contains { $0.message.contains("wrong") || $0.metadata.values.contains("wrong") }, "the secret is never logged")
    }

    @Test("no answer to Ping: the client drops the connection and reconnects")
    func pingTimeout() async throws {
        var script = FakeAsterisk.Script()
        script.answersPing = false
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let events = try await withClient(configuration(fake) { $0.pingInterval = .milliseconds(50); $0.pingTimeout = .milliseconds(100) }) { service in
            await Self.connectionEvents(service) { $0.filter { $0 == .loggedIn }.count == 2 }
        }
        #expect(events.contains(.closed(.pingTimeout)))
        #expect(fake.connections >= 2)
        #expect(fake.actions.contains { $0["Action"] == "Ping" })
    }

    /// 01-answered cut a little after the answer, in the middle of the next message.
    private func cutAfterAnswer() throws -> (first: FakeAsterisk.Script, rest: [UInt8]) {
        let bytes = try #require(try AMIFixtures.load("01-answered").bytesAfterLogin)
        let answer = try #require(bytes.firstRange(of: Array("DialStatus: ANSWER\r\n\r\n".utf8)))
        let cut = answer.upperBound + 30
        var first = FakeAsterisk.Script(replay: bytes)
        first.cutAfterBytes = cut
        let nextMessage = try #require(bytes[cut...].firstRange(of: Array("\r\n\r\n".utf8)))
        return (first, Array(bytes[nextMessage.upperBound...]))
    }

    private let liveCall: [[(String, String)]] = [
        [("Channel", "SIP/trunk-00000006"), ("ChannelState", "6"), ("ChannelStateDesc", "Up"), ("CallerIDNum", "+79161234567"),
         ("Context", "from-trunk"), ("Exten", "+74950000001"), ("Uniqueid", "1795439562.20"), ("Linkedid", "1795439562.20"),
         ("Application", "Dial"), ("Seconds", "1"), ("Duration", "00:00:01"), ("DNID", "74950000001")],
        [("Channel", "Local/101@agents-00000007;1"), ("ChannelStateDesc", "Up"), ("Context", "agents"), ("Exten", ""),
         ("Uniqueid", "1795439562.21"), ("Linkedid", "1795439562.20"), ("Application", "AppDial")],
    ]

    @Test("cut mid-message, Asterisk back with a new banner, the call still up: one call, ended normally")
    func cutAndRestartWithCallAlive() async throws {
        let (first, rest) = try cutAfterAnswer()
        var second = FakeAsterisk.Script(replay: rest)
        second.liveChannels = liveCall
        second.banner = "Asterisk Call Manager/9.0.0"
        let fake = try await FakeAsterisk.start([first, second])
        defer { Task { await fake.stop() } }
        let (ended, events) = try await withClient(configuration(fake)) { service in await Self.endedCalls(service, count: 1) }
        #expect(events.map { switch $0 { case .started: "started"; case .answered: "answered"; case .ended: "ended" } } == ["started", "answered", "ended"])
        #expect(mismatches(ended, try AMIFixtures.load("01-answered").expectation) == [])
        #expect(ended.first?.endedWhileDisconnected == false)
        #expect(fake.connections == 2)
        #expect(fake.actions.filter { $0["Action"] == "Login" }.count == 2)
    }

    @Test("a call that ended while we were away is closed at resync, marked as such")
    func resyncClosesEndedCall() async throws {
        let (first, _) = try cutAfterAnswer()
        let fake = try await FakeAsterisk.start([first, FakeAsterisk.Script()])
        defer { Task { await fake.stop() } }
        let (ended, _) = try await withClient(configuration(fake)) { service in await Self.endedCalls(service, count: 1) }
        let call = try #require(ended.first)
        #expect(call.id == "1795439562.20")
        #expect(call.endedWhileDisconnected)
        #expect(call.disposition == .answered)
        #expect(call.answeredBy?.party == "Local/101@agents")
        #expect(call.trackingNumber?.e164 == "+74950000001")
    }

    @Test("a call that began while we were away is picked up at resync with its tracking number")
    func resyncFindsNewCall() async throws {
        var script = FakeAsterisk.Script()
        script.liveChannels = liveCall
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let event = try await withClient(configuration(fake)) { service in
            var answered: Call?
            for await event in service.callEvents { if case .answered(let call) = event { answered = call; break } }
            return answered
        }
        let call = try #require(event)
        #expect(call.resumed)
        #expect(call.trackingNumber?.e164 == "+74950000001")
        #expect(call.caller.number?.e164 == "+79161234567")
        #expect(call.answeredBy?.party == "Local/101@agents")
    }

    @Test("metrics: connection state, messages, malformed, calls in progress and by disposition")
    func metrics() async throws {
        let fixture = try AMIFixtures.load("11-mixed-traffic")
        let garbage = Array(("Event: VarSet\r\nValue: " + String(repeating: "x", count: 20_000) + "\r\n\r\n").utf8)
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: garbage + (try #require(fixture.bytesAfterLogin)))])
        defer { Task { await fake.stop() } }
        let metrics = RecordingMetrics()
        let (ended, connected) = try await withClient(configuration(fake), metrics: metrics) { service in
            (await Self.endedCalls(service, count: 40).ended, metrics.value("calltrackd_ami_connected"))
        }
        #expect(connected == 1, "logged in while the calls came")
        #expect(metrics.value("calltrackd_ami_connected") == 0, "stopped")
        #expect(metrics.value("calltrackd_ami_malformed_total") == 1)
        #expect((metrics.value("calltrackd_ami_messages_total") ?? 0) > 300)
        #expect((metrics.value("calltrackd_ami_events_skipped_total") ?? 0) > 1000)
        #expect(metrics.value("calltrackd_ami_calls_in_progress") == 0)
        for disposition in CallDisposition.allCases {
            let count = Double(ended.filter { $0.disposition == disposition }.count)
            #expect(metrics.value("calltrackd_ami_calls_total", [("disposition", disposition.rawValue)]) ?? 0 == count, "\(disposition)")
        }
        #expect(metrics.value("calltrackd_ami_calls_total", [("disposition", "answered")]) ?? 0 >= 10)
    }

    @Test("garbage and stray lines between messages: counted, logged once per interval with an excerpt, the session stays logged in, every call is there")
    func garbageBetweenMessages() async throws {
        let fixture = try AMIFixtures.load("11-mixed-traffic")
        let splice = Array("this line has no colon\r\n".utf8) + [0x00, 0xFF, 0x1B, 0x5B, 0x32, 0x4A, 0x0D, 0x0A]
        let (bytes, inserted) = SplicedGarbageTests.spliced(try #require(fixture.bytesAfterLogin), with: splice)
        var script = FakeAsterisk.Script(replay: bytes)
        script.chunking = .random(seed: 11, max: 1500)
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let metrics = RecordingMetrics()
        let logs = CapturedLogs(level: .info)
        let ended = try await withClient(configuration(fake), logger: logs.logger, metrics: metrics) { service in
            await Self.endedCalls(service, count: 40).ended
        }
        #expect(mismatches(ended, fixture.expectation) == [])
        #expect(fake.connections == 1, "no reconnect")
        #expect(fake.actions.filter { $0["Action"] == "Login" }.count == 1, "no second login on the same socket")
        // Each splice is one run of bad lines up to the next message: refused once.
        #expect(metrics.value("calltrackd_ami_malformed_total") == Double(inserted))
        let warnings = logs.all.filter { $0.level == .warning && $0.message.contains("AMI bytes refused") }
        #expect(warnings.count == 1, "one line per interval, not one per bad line: \(warnings.count)")
        #expect(warnings.first?.metadata["ami.excerpt"] == "this line has no colon")
    }

    @Test("a caller name in CP1251, not UTF-8: the call is still right, the message counted and logged with the bytes escaped")
    func legacyCodePage() async throws {
        let fixture = try AMIFixtures.load("01-answered")
        let utf8Name = Array("CallerIDName: Ivan Petrov".utf8)
        let cp1251Name = Array("CallerIDName: ".utf8) + [0xC8, 0xE2, 0xE0, 0xED]  // "Иван" in Windows-1251
        var bytes = try #require(fixture.bytesAfterLogin)
        while let range = bytes.firstRange(of: utf8Name) { bytes.replaceSubrange(range, with: cp1251Name) }
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: bytes)])
        defer { Task { await fake.stop() } }
        let metrics = RecordingMetrics()
        let logs = CapturedLogs(level: .info)
        let ended = try await withClient(configuration(fake), logger: logs.logger, metrics: metrics) { service in
            await Self.endedCalls(service, count: 1).ended
        }
        #expect(mismatches(ended, fixture.expectation) == [])
        #expect(ended.first?.callerName?.contains("\u{FFFD}") == true)
        #expect((metrics.value("calltrackd_ami_invalid_utf8_total") ?? 0) >= 1)
        let warning = try #require(logs.all.first { $0.level == .warning && $0.message.contains("not UTF-8") })
        #expect(warning.metadata["ami.excerpt"] == "CallerIDName: \\xC8\\xE2\\xE0\\xED")
    }

    @Test("losing Asterisk is a warning with a plain reason and when we retry; our own stop says so")
    func disconnectLogs() async throws {
        var cut = FakeAsterisk.Script()
        cut.cutAfterBytes = 0
        let fake = try await FakeAsterisk.start([cut, FakeAsterisk.Script()])
        defer { Task { await fake.stop() } }
        let logs = CapturedLogs(level: .info)
        let service = AMIClientService(configuration: configuration(fake), logger: logs.logger, jitterSeed: 7)
        let group = ServiceGroup(services: [service], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await collect(2, from: service.connectionEvents, waitingFor: "a login on each connection") { $0 == .resynced(closed: 0) }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        let lost = try #require(logs.all.first { $0.level == .warning && $0.message.hasPrefix("Lost the connection to Asterisk") })
        #expect(lost.message.range(of: #"reconnecting in \d+(\.\d+)? s$"#, options: .regularExpression) != nil, "\(lost.message)")
        let reason = try #require(lost.metadata["ami.reason"])
        #expect(!reason.contains("errno") && reason.filter { $0 == "(" }.count == reason.filter { $0 == ")" }.count, "\(reason)")
        #expect(logs.all.contains { $0.level == .info && $0.message == "AMI session closed: calltrackd is stopping" })
        #expect(!logs.lines.contains { $0.contains("server is closing") })
    }

    @Test("a graceful shutdown of the service group logs off, stops the client and finishes its streams")
    func gracefulShutdown() async throws {
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script()])
        defer { Task { await fake.stop() } }
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = AMIClientService(configuration: configuration(fake), logger: logger)
        let group = ServiceGroup(services: [service], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            _ = try await firstElement(service.connectionEvents, waitingFor: "the first resync") { $0 == .resynced(closed: 0) }
            await group.triggerGracefulShutdown()
            try await tasks.next()
        }
        let events = service.callEvents
        let leftOver = try await within(.seconds(10), waitingFor: "the call stream to finish") {
            var leftOver = 0
            for await _ in events { leftOver += 1 }
            return leftOver
        }
        #expect(leftOver == 0, "the stream ended")
        // The Logoff may still be on the wire when the client has stopped: wait for the fake to read it.
        try await within(.seconds(10), waitingFor: "the fake Asterisk to read Logoff") { await fake.waitForAction("Logoff") }
        #expect(fake.actions.last?["Action"] == "Logoff", "Asterisk is told we leave")
        #expect(fake.connections == 1)
    }

    @Test("a port that never says anything: the client gives up on it and retries")
    func silentServer() async throws {
        var script = FakeAsterisk.Script()
        script.banner = nil
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let events = try await withClient(configuration(fake) { $0.connectTimeout = .milliseconds(100); $0.pingTimeout = .milliseconds(100) }) { service in
            await Self.connectionEvents(service) { $0.last?.isReconnecting == true }
        }
        #expect(events.contains(.closed(.loginTimeout)))
    }
}

extension AMIConnectionEvent {
    var isReconnecting: Bool {
        if case .reconnecting = self { true } else { false }
    }
}
