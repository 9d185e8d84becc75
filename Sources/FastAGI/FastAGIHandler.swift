import AGI
import Logging
import NIOCore

/// One FastAGI connection: reads bytes into the line reader, runs `AGISession`'s actions (write,
/// close, ask the router), and turns timers into session inputs. All on the channel's event loop.
final class FastAGIHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let configuration: FastAGIConfiguration
    private let router: any AGIRouter
    private let metrics: FastAGIMetrics
    private let logger: Logger
    private var reader: AGILineReader
    private var session: AGISession
    private var buffer = ByteBuffer()
    private var headTimer: Scheduled<Void>?
    private var replyTimer: Scheduled<Void>?
    private var deadlineTimer: Scheduled<Void>?
    /// The answer being given to Asterisk; abandoned if the session ends before it is all set.
    private var answer: AGIAnswer?
    private var decisionStarted: NIODeadline?
    private var closed = false

    init(configuration: FastAGIConfiguration, router: any AGIRouter, metrics: FastAGIMetrics, logger: Logger) {
        self.configuration = configuration
        self.router = router
        self.metrics = metrics
        self.logger = logger
        reader = AGILineReader(maxLineBytes: configuration.maxLineBytes)
        session = AGISession(limits: .init(maxHeadLines: configuration.maxHeadLines))
    }

    func channelActive(context: ChannelHandlerContext) {
        metrics.active.increment()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        headTimer = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.headTimeout.nanoseconds)) {
            let (handler, context) = bound.value
            handler.run(handler.session.headTimerFired(), context: context)
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        guard !session.isDone else {
            metrics.discardedBytes.increment(by: Int64(incoming.readableBytes))
            return
        }
        buffer.writeBuffer(&incoming)
        let invalidBefore = reader.invalidUTF8
        while !session.isDone, let output = reader.next(from: &buffer) {
            switch output {
            case .line(let line): run(session.lineReceived(line), context: context)
            case .tooLong: run(session.lineTooLong(), context: context)
            }
        }
        if reader.invalidUTF8 > invalidBefore { metrics.invalidUTF8.increment(by: Int64(reader.invalidUTF8 - invalidBefore)) }
        if session.isDone, buffer.readableBytes > 0 {
            metrics.discardedBytes.increment(by: Int64(buffer.readableBytes))
            buffer.clear()
        }
        buffer.discardReadBytes()
    }

    func channelInactive(context: ChannelHandlerContext) {
        run(session.peerClosed(), context: context)
        metrics.active.decrement()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset or a refused write: the session ends as if the peer had closed.
        run(session.peerClosed(), context: context)
    }

    private func run(_ action: AGISession.Action, context: ChannelHandlerContext) {
        switch action {
        case .none:
            break
        case .decide(let environment):
            headTimer?.cancel()
            decide(environment, context: context)
        case .send(let line):
            replyTimer?.cancel()
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            replyTimer = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.replyTimeout.nanoseconds)) {
                let (handler, context) = bound.value
                handler.run(handler.session.replyTimerFired(), context: context)
            }
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: line)), promise: nil)
        case .close(let outcome):
            finish(outcome, context: context)
        }
    }

    private func decide(_ environment: AGIEnvironment, context: ChannelHandlerContext) {
        decisionStarted = .now()
        if let answer = router.immediateAnswer(environment) {
            decided(answer, context: context)
            return
        }
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadlineTimer = context.eventLoop.scheduleTask(in: .nanoseconds(configuration.deadline.nanoseconds)) {
            let (handler, context) = bound.value
            handler.metrics.deadlineMissed.increment()
            handler.logger.warning("FastAGI decision missed its deadline; answering with the default route", metadata: [
                "agi.uniqueid": "\(environment.uniqueID ?? "")",
            ])
            handler.decided(handler.router.fallback(environment), context: context)
        }
        let router = self.router
        let eventLoop = context.eventLoop
        Task {
            let answer = await router.answer(environment)
            eventLoop.execute {
                let (handler, context) = bound.value
                handler.decided(answer, context: context)
            }
        }
    }

    /// The first answer to come (the decision or the deadline's fallback) is given; a later one is undone.
    private func decided(_ answer: AGIAnswer, context: ChannelHandlerContext) {
        guard self.answer == nil, !session.isDone else {
            router.abandoned(answer)
            return
        }
        deadlineTimer?.cancel()
        if let started = decisionStarted {
            metrics.decisionSeconds.recordNanoseconds((NIODeadline.now() - started).nanoseconds)
        }
        self.answer = answer
        run(session.decided(answer.variables.map { ($0.name, $0.value) }), context: context)
    }

    private func finish(_ outcome: AGISession.Outcome, context: ChannelHandlerContext) {
        guard !closed else { return }
        closed = true
        headTimer?.cancel()
        replyTimer?.cancel()
        deadlineTimer?.cancel()
        metrics.sessions[outcome]?.increment()
        if session.refused > 0 { metrics.refusedCommands.increment(by: Int64(session.refused)) }
        if let answer, outcome != .answered, outcome != .refused { router.abandoned(answer) }
        if outcome != .answered {
            logger.debug("FastAGI session ended", metadata: ["agi.outcome": "\(outcome.rawValue)"])
        }
        context.close(promise: nil)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
