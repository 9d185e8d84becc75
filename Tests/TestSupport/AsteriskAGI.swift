import NIOCore
import NIOPosix

/// Plays Asterisk's side of a FastAGI session over a real TCP connection: sends the `agi_*` block as
/// res_agi.c sends it, answers each command line, and reports what the server sent and how it ended.
public enum AsteriskAGI {
    /// The block an Asterisk 20 sends for `AGI(agi://127.0.0.1:4573/route,<arguments>)` on a PJSIP
    /// trunk channel: `agi_network` and `agi_network_script` (launch_netscript), then setup_env's lines
    /// in its order, then an empty line.
    public static func environment(
        uniqueID: String = "1733650000.42", callerID: String = "+74951234567", dnid: String = "74950000001",
        extension exten: String = "74950000001", arguments: [String] = []
    ) -> String {
        var lines = [
            "agi_network: yes",
            "agi_network_script: route",
            "agi_request: agi://127.0.0.1:4573/route",
            "agi_channel: PJSIP/trunk-rostelecom-0000002a",
            "agi_language: ru",
            "agi_type: PJSIP",
            "agi_uniqueid: \(uniqueID)",
            "agi_version: 20.10.0",
            "agi_callerid: \(callerID)",
            "agi_calleridname: Иван Петров",
            "agi_callingpres: 0",
            "agi_callingani2: 0",
            "agi_callington: 0",
            "agi_callingtns: 0",
            "agi_dnid: \(dnid)",
            "agi_rdnis: unknown",
            "agi_context: calltrackd-route",
            "agi_extension: \(exten)",
            "agi_priority: 2",
            "agi_enhanced: 0.0",
            "agi_accountcode: ",
            "agi_threadid: 140245287495424",
        ]
        for (index, argument) in arguments.enumerated() { lines.append("agi_arg_\(index + 1): \(argument)") }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// What the server sent and whether it closed the connection.
    public struct Exchange: Sendable, Equatable {
        /// Every line the server sent, in order.
        public var commands: [String]
        /// From the head written to the first line the server sent (how long Asterisk waited for the decision).
        public var firstLine: Duration?
        /// From the head written to the server closing the connection.
        public var total: Duration?
        /// `SET VARIABLE NAME "value"` lines as name → value (quotes and escapes removed).
        public var variables: [String: String] {
            var variables: [String: String] = [:]
            for command in commands where command.hasPrefix("SET VARIABLE ") {
                let rest = command.dropFirst("SET VARIABLE ".count)
                guard let space = rest.firstIndex(of: " ") else { continue }
                var value = String(rest[rest.index(after: space)...])
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                variables[String(rest[..<space])] = value.replacing("\\\"", with: "\"").replacing("\\\\", with: "\\")
            }
            return variables
        }
    }

    /// Connects to 127.0.0.1:`port`, sends `head`, answers the n-th command (1-based) with `reply(command, n)`
    /// (nil: no answer), and returns once the server closes the connection. `from` is a local loopback
    /// address to connect from (a benchmark spreads its connections over 127.0.0.x: the server closes
    /// first, so its TIME_WAIT entries would otherwise crowd one address's ephemeral ports).
    public static func session(
        port: Int, head: [UInt8], from local: String? = nil,
        reply: @escaping @Sendable (String, Int) -> String? = { _, _ in "200 result=1" }
    ) async throws -> Exchange {
        let done = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Exchange.self)
        var bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        if let local { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: local, port: 0)) }
        let channel = try await bootstrap
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Peer(reply: reply, done: done))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        var buffer = channel.allocator.buffer(capacity: head.count)
        buffer.writeBytes(head)
        channel.writeAndFlush(buffer, promise: nil)
        return try await done.futureResult.get()
    }

    private final class Peer: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let reply: @Sendable (String, Int) -> String?
        let done: EventLoopPromise<Exchange>
        var pending = ByteBuffer()
        var exchange = Exchange(commands: [])
        var started = ContinuousClock.now

        init(reply: @escaping @Sendable (String, Int) -> String?, done: EventLoopPromise<Exchange>) {
            self.reply = reply
            self.done = done
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            pending.writeBuffer(&bytes)
            while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let line = pending.readString(length: newline - pending.readerIndex)!
                pending.moveReaderIndex(forwardBy: 1)
                exchange.commands.append(line)
                if exchange.firstLine == nil { exchange.firstLine = ContinuousClock.now - started }
                if let answer = reply(line, exchange.commands.count) {
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer + "\n")), promise: nil)
                }
            }
            pending.discardReadBytes()
        }

        func channelActive(context: ChannelHandlerContext) {
            started = ContinuousClock.now
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            exchange.total = ContinuousClock.now - started
            done.succeed(exchange)
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
