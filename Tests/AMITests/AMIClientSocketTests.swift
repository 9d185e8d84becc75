import AMI
import AMIClient
import CallTrackCore
import CoreMetrics
import Logging
import ServiceLifecycle
import Testing
import TestSupport

/// The real client against a fake Asterisk over TCP, on a manual clock: the bytes cross a real
/// socket, and every timer of the client (login deadline, ping, backoff, the wait for Goodbye)
/// fires only when a test moves the clock, so no test waits for real time to pass.
@Suite("AMI client over a real socket")
struct AMIClientSocketTests {
    static let names = FixtureAssemblyTests.withCalls

    /// Production's timings (a 15 s ping, a 0.5–30 s backoff): on a manual clock they cost nothing.
    private func configuration(_ fake: FakeAsterisk, _ change: (inout AMIConfiguration) -> Void = { _ in }) -> AMIConfiguration {
        var configuration = AMIConfiguration(port: fake.port, username: "calltrackd", secret: "calltrackd", auth: .plain)
        change(&configuration)
        return configuration
    }

    /// A clock after the recordings were made, as a live one would be.
    private static func clock() -> ManualClock { ManualClock(at: .seconds(1_800_000_000)) }

    private static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Runs the client while `body` reads from it, then stops it; fails naming `what` if `body` has not
    /// returned within 60 s, or if the client stopped first.
    private func withClient<T: Sendable>(
        _ configuration: AMIConfiguration, clock: ManualClock = clock(), logger: Logger = quiet,
        metrics: RecordingMetrics = RecordingMetrics(), waitingFor what: String,
        _ body: @escaping @Sendable (AMIClientService) async throws -> T
    ) async throws -> T {
        let service = withMetricsFactory(metrics) { AMIClientService(configuration: configuration, clock: clock, logger: logger, jitterSeed: 7) }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await service.run(); return nil }
            group.addTask { try await within(.seconds(60), waitingFor: what) { try await body(service) } }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw StreamEnded(what: "\(what): the client stopped first")
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

    /// Lets the client reconnect once: waits until it announces its backoff, checks it sleeps exactly
    /// that long on the clock, and fires that timer. Returns the connection events up to the announcement.
    @discardableResult
    private static func reconnect(_ service: AMIClientService, _ clock: ManualClock) async throws -> [AMIConnectionEvent] {
        let seen = try await within(.seconds(30), waitingFor: "the client to announce a reconnect") {
            await connectionEvents(service) { $0.last?.isReconnecting == true }
        }
        guard case .reconnecting(let delay) = seen.last else { throw StreamEnded(what: "a reconnect (saw \(seen))") }
        try await clock.advance(by: delay, firing: "the reconnect backoff of \(delay)")
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
        let ended = try await withClient(configuration(fake) { $0.auth = md5 ? .md5 : .plain }, waitingFor: "\(count) calls of \(name) to end") { service in
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
        let ended = try await withClient(configuration(fake), waitingFor: "2 calls to end") { service in await Self.endedCalls(service, count: 2).ended }
        #expect(mismatches(ended, fixture.expectation) == [])
    }

    @Test("a wrong secret: a clear log line naming the settings, then retries that each wait longer, and no sooner")
    func loginFailure() async throws {
        var script = FakeAsterisk.Script()
        script.secret = "the-right-one"
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let logs = CapturedLogs()
        let clock = Self.clock()
        let (events, connectionsWhileWaiting) = try await withClient(
            configuration(fake) { $0.secret = "wrong" }, clock: clock, logger: logs.logger, waitingFor: "four refused logins, each retried after its backoff"
        ) { service in
            var events: [AMIConnectionEvent] = []
            var connections: [Int] = []
            for _ in 1...4 {
                events += await Self.connectionEvents(service) { $0.last?.isReconnecting == true }
                guard case .reconnecting(let delay) = events.last else { throw StreamEnded(what: "a retry (saw \(events))") }
                // The client sleeps on the clock now, so this count cannot move until the backoff is fired.
                connections.append(fake.connections)
                try await clock.advance(by: delay, firing: "the backoff of \(delay) before the next login")
            }
            return (events, connections)
        }
        #expect(events.contains(.closed(.loginRejected(message: "Authentication failed"))))
        let delays = events.compactMap { if case .reconnecting(let delay) = $0 { delay } else { nil } }
        #expect(delays.count == 4)
        #expect(zip(delays, delays.dropFirst()).allSatisfy { $0 < $1 }, "backoff grows: \(delays)")
        #expect(delays.first.map { $0 >= .milliseconds(400) && $0 <= .milliseconds(500) } == true, "0.5 s less at most 20 % jitter: \(delays)")
        #expect(connectionsWhileWaiting == [1, 2, 3, 4], "no new connection before the backoff has passed")
        let line = try #require(logs.all.first { $0.level == .error })
        #expect(line.message.contains("ami.secret") && line.message.contains("ami.username"))
        #expect(line.metadata["ami.message"] == "Authentication failed")
        #expect(!logs.all.contains { $0.message.contains("wrong") || $0.metadata.values.contains("wrong") }, "the secret is never logged")
    }

    @Test("no answer to Ping: a Ping every interval, the connection dropped once the ping timeout passes, then a reconnect")
    func pingTimeout() async throws {
        var script = FakeAsterisk.Script()
        script.answersPing = false
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let clock = Self.clock()
        let settings = configuration(fake)
        let afterResync = try await withClient(settings, clock: clock, waitingFor: "a ping timeout and a second login") { service in
            _ = await Self.connectionEvents(service) { $0.last == .resynced(closed: 0) }
            try await clock.advance(by: settings.pingInterval, firing: "the ping interval")
            try await within(.seconds(30), waitingFor: "the fake Asterisk to read a Ping") { await fake.waitForAction("Ping") }
            try await clock.advance(by: settings.pingTimeout, firing: "the ping deadline")
            let closing = try await Self.reconnect(service, clock)
            _ = await Self.connectionEvents(service) { $0.last == .loggedIn }
            return closing
        }
        #expect(afterResync.first == .closed(.pingTimeout), "the first thing after the unanswered Ping: \(afterResync)")
        #expect(fake.connections == 2)
        #expect(fake.actions.filter { $0["Action"] == "Ping" }.count == 1, "one interval passed: one Ping")
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
        let clock = Self.clock()
        let (ended, events) = try await withClient(configuration(fake), clock: clock, waitingFor: "the call to end after a reconnect") { service in
            async let reconnected = Self.reconnect(service, clock)
            let calls = await Self.endedCalls(service, count: 1)
            _ = try await reconnected
            return calls
        }
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
        let clock = Self.clock()
        let ended = try await withClient(configuration(fake), clock: clock, waitingFor: "the resync after a reconnect to close the call") { service in
            async let reconnected = Self.reconnect(service, clock)
            let calls = await Self.endedCalls(service, count: 1).ended
            _ = try await reconnected
            return calls
        }
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
        let event = try await withClient(configuration(fake), waitingFor: "the call found at resync") { service in
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
        let (ended, connected) = try await withClient(configuration(fake), metrics: metrics, waitingFor: "40 calls to end") { service in
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
        let ended = try await withClient(configuration(fake), logger: logs.logger, metrics: metrics, waitingFor: "40 calls to end") { service in
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
        let ended = try await withClient(configuration(fake), logger: logs.logger, metrics: metrics, waitingFor: "the call to end") { service in
            await Self.endedCalls(service, count: 1).ended
        }
        #expect(mismatches(ended, fixture.expectation) == [])
        #expect(ended.first?.callerName?.contains("\u{FFFD}") == true)
        #expect((metrics.value("calltrackd_ami_invalid_utf8_total") ?? 0) >= 1)
        let warning = try #require(logs.all.first { $0.level == .warning && $0.message.contains("not UTF-8") })
        #expect(warning.metadata["ami.excerpt"] == "CallerIDName: \\xC8\\xE2\\xE0\\xED")
    }

    /// Shuts the group down gracefully and waits for it to stop; fails naming `what` after 30 s.
    private static func stopGracefully(_ group: ServiceGroup, _ running: Task<Void, any Error>, stopping what: String) async throws {
        await group.triggerGracefulShutdown()
        try await within(.seconds(30), waitingFor: what) { try await running.value }
    }

    @Test("losing Asterisk is a warning with a plain reason and when we retry; our own stop says so")
    func disconnectLogs() async throws {
        var cut = FakeAsterisk.Script()
        cut.cutAfterBytes = 0
        let fake = try await FakeAsterisk.start([cut, FakeAsterisk.Script()])
        defer { Task { await fake.stop() } }
        let logs = CapturedLogs(level: .info)
        let clock = Self.clock()
        let service = AMIClientService(configuration: configuration(fake), clock: clock, logger: logs.logger, jitterSeed: 7)
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        let running = Task { try await group.run() }
        defer { running.cancel() }
        try await within(.seconds(60), waitingFor: "a login, a cut, a reconnect and a second login") {
            try await Self.reconnect(service, clock)
            _ = await Self.connectionEvents(service) { $0.last == .resynced(closed: 0) }
        }
        try await Self.stopGracefully(group, running, stopping: "the client to log off and stop")
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
        let service = AMIClientService(configuration: configuration(fake), clock: Self.clock(), logger: Self.quiet)
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        let running = Task { try await group.run() }
        defer { running.cancel() }
        _ = try await firstElement(service.connectionEvents, waitingFor: "the first resync") { $0 == .resynced(closed: 0) }
        try await Self.stopGracefully(group, running, stopping: "the client to log off and stop")
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

    @Test("stopping while Asterisk never answers Logoff: the client waits for Goodbye as long as promised, then closes and stops")
    func shutdownWithoutGoodbye() async throws {
        var script = FakeAsterisk.Script()
        script.answersLogoff = false
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let clock = Self.clock()
        let service = AMIClientService(configuration: configuration(fake), clock: clock, logger: Self.quiet)
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        let running = Task { try await group.run() }
        defer { running.cancel() }
        _ = try await firstElement(service.connectionEvents, waitingFor: "the first resync") { $0 == .resynced(closed: 0) }
        await group.triggerGracefulShutdown()
        try await within(.seconds(30), waitingFor: "the fake Asterisk to read Logoff") { await fake.waitForAction("Logoff") }
        // Fails unless the client, its Logoff sent, is waiting exactly this long for the Goodbye.
        try await clock.advance(by: AMIClientService.goodbyeTimeout, firing: "the wait for Goodbye after Logoff")
        try await within(.seconds(30), waitingFor: "the client to stop once the wait for Goodbye ended") { try await running.value }
        let events = service.connectionEvents
        let rest = try await within(.seconds(10), waitingFor: "the connection events to finish") {
            var rest: [AMIConnectionEvent] = []
            for await event in events { rest.append(event) }
            return rest
        }
        #expect(rest == [.disconnected(reason: "logged off")], "closed by the client, no reconnect")
        #expect(fake.connections == 1)
    }

    @Test("a port that never says anything: the client gives up on it at the login deadline and retries")
    func silentServer() async throws {
        var script = FakeAsterisk.Script()
        script.banner = nil
        let fake = try await FakeAsterisk.start([script])
        defer { Task { await fake.stop() } }
        let clock = Self.clock()
        let settings = configuration(fake)
        let events = try await withClient(settings, clock: clock, waitingFor: "the client to give up on a silent port") { service in
            // The login deadline is the connect timeout plus the ping timeout, counted from the connection.
            try await clock.advance(by: settings.connectTimeout + settings.pingTimeout, firing: "the login deadline")
            return await Self.connectionEvents(service) { $0.last?.isReconnecting == true }
        }
        #expect(events.contains(.closed(.loginTimeout)))
        #expect(!events.contains { if case .connected = $0 { true } else { false } }, "no banner came")
        #expect(events.filter { if case .connecting = $0 { true } else { false } }.count == 1, "one attempt, then the backoff")
    }
}

extension AMIConnectionEvent {
    var isReconnecting: Bool {
        if case .reconnecting = self { true } else { false }
    }
}
