#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AMI
import CallTrackCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The connection to Asterisk's Manager Interface, run as a `Service`.
///
/// Connects, logs in, resynchronises the calls in progress, pings, and reconnects with backoff
/// for as long as it runs. Calls come out of `callEvents`; the connection's story out of
/// `connectionEvents`. All protocol decisions are `AMIClientStateMachine`'s and `CallAssembler`'s;
/// this type only moves bytes and runs timers.
///
/// Every timer (the login deadline, the ping interval and deadline, the wait for `Goodbye` after
/// `Logoff`, the reconnect backoff) sleeps on the injected `clock`, the one that also stamps what
/// arrives: with a manual clock a test fires each timer when it chooses, and none fires by itself.
public final class AMIClientService: Service, Sendable {
    public let configuration: AMIConfiguration
    /// Every call started, answered and ended. Unbounded: a call is never dropped for a slow reader.
    public let callEvents: AsyncStream<CallEvent>
    /// Every call a device placed to an outside number (a dealer calling a missed caller back). Unbounded.
    public let outboundCalls: AsyncStream<OutboundCall>
    /// The latest 256 connection events.
    public let connectionEvents: AsyncStream<AMIConnectionEvent>
    /// How long a stopping client waits for `Goodbye` after its `Logoff` before it closes the socket itself.
    public static let goodbyeTimeout: Duration = .seconds(1)

    private let callContinuation: AsyncStream<CallEvent>.Continuation
    private let outboundContinuation: AsyncStream<OutboundCall>.Continuation
    private let connectionContinuation: AsyncStream<AMIConnectionEvent>.Continuation
    private let clock: any WallClock
    private let logger: Logger
    private let group: any EventLoopGroup
    private let metrics = AMIClientMetrics()
    private let seed: UInt64
    /// Set once a graceful shutdown begins, with the live session's inbox to tell it.
    private let shutdown = Mutex<(requested: Bool, inbox: AsyncStream<Input>.Continuation?)>((false, nil))

    public init(
        configuration: AMIConfiguration, clock: any WallClock = SystemClock(), logger: Logger,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, jitterSeed: UInt64 = UInt64.random(in: 0...UInt64.max)
    ) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.group = eventLoopGroup
        self.seed = jitterSeed
        (callEvents, callContinuation) = AsyncStream.makeStream(of: CallEvent.self)
        (outboundCalls, outboundContinuation) = AsyncStream.makeStream(of: OutboundCall.self)
        (connectionEvents, connectionContinuation) = AsyncStream.makeStream(of: AMIConnectionEvent.self, bufferingPolicy: .bufferingNewest(256))
    }

    public func run() async throws {
        defer {
            callContinuation.finish()
            outboundContinuation.finish()
            connectionContinuation.finish()
            metrics.connected.record(0)
        }
        try await withGracefulShutdownHandler {
            try await connectForever()
        } onGracefulShutdown: {
            self.shutdown.withLock { state in
                state.requested = true
                state.inbox?.yield(.shutdown)
            }
        }
    }

    private func connectForever() async throws {
        var machine = AMIClientStateMachine(
            login: configuration.login, backoff: configuration.backoff,
            resyncVariables: configuration.trackingVariable.map { [$0] } ?? [], seed: seed
        )
        var assembler = CallAssembler(settings: configuration.assemblerSettings)
        var warnings = Warnings()
        var attempt = 0
        while !Task.isCancelled, !shutdown.withLock({ $0.requested }) {
            attempt += 1
            connectionContinuation.yield(.connecting(attempt: attempt))
            var reason = "Asterisk closed the connection"
            var reached = false
            var wasLoggedIn = false
            do {
                let channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.nanoseconds(Int64(configuration.connectTimeout.microseconds) * 1000))
                    .channelOption(.socketOption(.so_keepalive), value: 1)
                    .connect(host: configuration.host, port: configuration.port) { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                        }
                    }
                reached = true
                let ended = try await session(channel, &machine, &assembler, &warnings)
                wasLoggedIn = ended.loggedIn
                if let closed = ended.reason { reason = closed }
            } catch is CancellationError {
                break
            } catch {
                reason = AMIDisconnectReason.describe(error, endpoint: endpoint)
            }
            metrics.connected.record(0)
            connectionContinuation.yield(.disconnected(reason: reason))
            if Task.isCancelled || shutdown.withLock({ $0.requested }) { break }
            guard case .reconnect(let delay) = machine.disconnected() else { continue }
            let retry = Self.seconds(delay)
            let what = wasLoggedIn ? "Lost the connection to Asterisk; reconnecting in \(retry)"
                : reached ? "Connected to Asterisk but got no AMI session; retrying in \(retry)"
                : "Cannot reach Asterisk; retrying in \(retry)"
            logger.warning(
                "\(what)",
                metadata: [
                    "ami.host": "\(endpoint)", "ami.reason": "\(reason)",
                    "ami.retry_in_ms": "\(delay.microseconds / 1000)", "ami.attempt": "\(machine.failedAttempts)",
                ])
            metrics.reconnects.increment()
            connectionContinuation.yield(.reconnecting(after: delay))
            let clock = clock
            do { try await cancelWhenGracefulShutdown { try await clock.sleep(for: delay) } } catch { break }
        }
    }

    private var endpoint: String { "\(configuration.host):\(configuration.port)" }

    /// `0.5 s`, `12 s`: a delay as a person reads it.
    static func seconds(_ delay: Duration) -> String {
        let milliseconds = delay.microseconds / 1000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(Double(milliseconds) / 1000) s"
    }

    /// Rate limits for the warnings bad bytes from Asterisk can cause, kept across connections.
    private struct Warnings {
        var malformed = WarningBudget()
        var invalidUTF8 = WarningBudget()
    }

    private enum Input: Sendable {
        case bytes(ByteBuffer)
        case timer(AMIClientStateMachine.Timer)
        case closed(String)
        case shutdown
    }

    /// One TCP connection, from banner to close. Returns why it ended, and whether it had logged in.
    private func session(
        _ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
        _ machine: inout AMIClientStateMachine, _ assembler: inout CallAssembler, _ warnings: inout Warnings
    ) async throws -> (reason: String?, loggedIn: Bool) {
        var decoder = AMIDecoder(limits: configuration.limits, filter: configuration.filterEvents ? assembler.messageFilter : .all)
        var events: [CallEvent] = []
        var endReason: String?
        var loggedIn = false
        let configuration = configuration
        let endpoint = endpoint
        let clock = clock
        try await channel.executeThenClose { inbound, outbound in
            let (inputs, input) = AsyncStream.makeStream(of: Input.self)
            shutdown.withLock { state in
                state.inbox = input
                if state.requested { input.yield(.shutdown) }
            }
            defer { shutdown.withLock { $0.inbox = nil } }
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    do {
                        for try await chunk in inbound { input.yield(.bytes(chunk)) }
                        input.yield(.closed("Asterisk closed the connection"))
                    } catch {
                        input.yield(.closed(AMIDisconnectReason.describe(error, endpoint: endpoint)))
                    }
                }
                _ = machine.connected()
                let loginTimeout = configuration.connectTimeout + configuration.pingTimeout
                tasks.addTask {
                    try await clock.sleep(for: loginTimeout)
                    input.yield(.timer(.loginDeadline))
                }

                /// Runs one action; false when the session must end.
                func perform(_ action: AMIClientStateMachine.Action) async throws -> Bool {
                    switch action {
                    case .none:
                        break
                    case .send(let action):
                        try await outbound.write(action.encoded)
                    case .deliver(let message):
                        let now = clock.now()
                        assembler.process(message, arrivedAt: now, into: &events)
                        publish(&events, assembler)
                        if let outbound = OutboundCallSpotter(settings: assembler.settings).spot(message, arrivedAt: now) {
                            outboundContinuation.yield(outbound)
                        }
                    case .loggedIn(let listing):
                        loggedIn = true
                        logger.info("AMI logged in", metadata: ["ami.host": "\(endpoint)", "ami.user": "\(configuration.username)"])
                        metrics.connected.record(1)
                        connectionContinuation.yield(.loggedIn)
                        assembler.beginResync()
                        try await outbound.write(listing.encoded)
                        let interval = configuration.pingInterval
                        tasks.addTask {
                            while true {
                                try await clock.sleep(for: interval)
                                input.yield(.timer(.ping))
                            }
                        }
                    case .finishResync:
                        let before = assembler.callsInProgress
                        assembler.finishResync(at: clock.now(), into: &events)
                        let closed = events.filter { if case .ended = $0 { true } else { false } }.count
                        publish(&events, assembler)
                        if closed > 0 {
                            logger.info("AMI resync closed calls that ended while disconnected", metadata: ["ami.closed": "\(closed)", "ami.in_progress": "\(before - closed)"])
                        }
                        connectionContinuation.yield(.resynced(closed: closed))
                    case .sendPing(let ping):
                        try await outbound.write(ping.encoded)
                        let timeout = configuration.pingTimeout
                        tasks.addTask {
                            try await clock.sleep(for: timeout)
                            input.yield(.timer(.pingDeadline(actionID: ping.actionID)))
                        }
                    case .close(let reason):
                        report(reason)
                        connectionContinuation.yield(.closed(reason))
                        endReason = "\(reason)"
                        return false
                    case .reconnect:
                        return false
                    }
                    return true
                }

                sessionLoop: for await next in inputs {
                    switch next {
                    case .bytes(let chunk):
                        metrics.bytes.increment(by: chunk.readableBytes)
                        let skippedBefore = decoder.counters.skipped
                        decoder.feed(chunk)
                        while let output = decoder.next() {
                            let action: AMIClientStateMachine.Action
                            switch output {
                            case .banner(let banner):
                                connectionContinuation.yield(.connected(banner: banner))
                                action = machine.bannerReceived(banner)
                            case .message(let message):
                                metrics.messages.increment()
                                if !message.isValidUTF8 { invalidUTF8(message, &warnings.invalidUTF8) }
                                action = machine.received(message)
                            case .malformed(let error):
                                metrics.malformed.increment()
                                if case .log(let suppressed) = warnings.malformed.admit(at: clock.now()) {
                                    logger.warning("AMI bytes refused; skipped to the next message, the session goes on", metadata: [
                                        "ami.host": "\(endpoint)", "ami.error": "\(error)", "ami.excerpt": "\(error.excerpt)",
                                        "ami.refused_since_last_warning": "\(suppressed)",
                                    ])
                                }
                                continue
                            }
                            if try await !perform(action) { break sessionLoop }
                        }
                        metrics.skipped.increment(by: decoder.counters.skipped - skippedBefore)
                    case .timer(let timer):
                        if try await !perform(machine.timerFired(timer)) { break sessionLoop }
                    case .closed(let why):
                        endReason = why
                        break sessionLoop
                    case .shutdown:
                        let logoff = machine.shutdownRequested()
                        guard logoff != .none else { break sessionLoop }
                        if try await !perform(logoff) { break sessionLoop }
                        tasks.addTask {  // Asterisk answers Goodbye and closes; do not wait longer than this for it
                            try await clock.sleep(for: Self.goodbyeTimeout)
                            input.yield(.closed("logged off"))
                        }
                    }
                }
                input.finish()
                tasks.cancelAll()
                try? await channel.channel.close()
            }
        }
        return (endReason, loggedIn)
    }

    /// Names in a legacy code page (a trunk sending CP1251) are kept as bytes and shown with U+FFFD:
    /// counted, and logged with the offending line escaped.
    private func invalidUTF8(_ message: AMIMessage, _ budget: inout WarningBudget) {
        metrics.invalidUTF8.increment()
        guard case .log(let suppressed) = budget.admit(at: clock.now()) else { return }
        logger.warning("AMI message is not UTF-8; kept as sent, shown with replacement characters", metadata: [
            "ami.host": "\(endpoint)", "ami.event": "\(message.event ?? message.response ?? "")",
            "ami.excerpt": "\(message.invalidUTF8Excerpt ?? "")", "ami.invalid_since_last_warning": "\(suppressed)",
        ])
    }

    private func publish(_ events: inout [CallEvent], _ assembler: CallAssembler) {
        guard !events.isEmpty else { return }
        for event in events {
            callContinuation.yield(event)
            if case .ended(let call) = event, let disposition = call.disposition {
                metrics.callsByDisposition[disposition]?.increment()
            }
        }
        events.removeAll(keepingCapacity: true)
        metrics.callsInProgress.record(assembler.callsInProgress)
    }

    private func report(_ reason: AMIClientStateMachine.CloseReason) {
        switch reason {
        case .loginRejected(let message):
            metrics.loginFailures.increment()
            logger.error("AMI login rejected: check ami.username and ami.secret (and ami.auth) against manager.conf", metadata: [
                "ami.host": "\(endpoint)", "ami.user": "\(configuration.username)", "ami.auth": "\(configuration.auth.rawValue)",
                "ami.message": "\(message)",
            ])
        case .pingTimeout:
            metrics.pingTimeouts.increment()
            logger.warning("AMI did not answer Ping in time; reconnecting", metadata: [
                "ami.host": "\(endpoint)", "ami.ping_timeout_ms": "\(configuration.pingTimeout.microseconds / 1000)",
            ])
        case .loginTimeout:
            logger.warning("AMI sent no banner or login reply in time: is ami.host:ami.port an Asterisk manager port?", metadata: [
                "ami.host": "\(endpoint)",
            ])
        case .serverClosing:
            logger.warning("Asterisk is ending the AMI session (shutdown or restart)", metadata: ["ami.host": "\(endpoint)"])
        case .loggedOff:
            logger.info("AMI session closed: calltrackd is stopping", metadata: ["ami.host": "\(endpoint)"])
        }
    }
}

