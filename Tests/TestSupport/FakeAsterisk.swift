import AMI
import NIOCore
import NIOPosix
import Synchronization

/// A stand-in Asterisk Manager Interface on a real TCP socket (127.0.0.1, ephemeral port).
///
/// It does the login exchange itself (plain or MD5 challenge, checking the secret), answers
/// `CoreShowChannels`, `Status` and `Ping`, and then replays recorded bytes exactly as Asterisk sent
/// them, in the chunks the script asks for. Connection N uses script N (the last one repeats), so
/// a test can script a cut, a restart or a refusal and what the reconnect finds.
public final class FakeAsterisk: Sendable {
    public struct Script: Sendable {
        /// Nil: say nothing at all, like a port that is not AMI.
        public var banner: String? = "Asterisk Call Manager/9.0.0"
        public var username = "calltrackd"
        public var secret = "calltrackd"
        public var challenge = "434925853"
        /// Bytes written once the login (and, by default, the resync) is done.
        public var replay: [UInt8] = []
        public var chunking = Chunking.whole
        public var replayStarts = ReplayStart.afterResync
        /// Channels listed by `CoreShowChannels` and `Status` (fields without `Event` and `ActionID`).
        public var liveChannels: [[(String, String)]] = []
        public var answersPing = true
        /// False: a `Logoff` gets no `Goodbye` and the socket stays open, like an Asterisk that hangs.
        public var answersLogoff = true
        /// Close the socket after this many replay bytes (a cut mid-message).
        public var cutAfterBytes: Int?
        public var closesAfterReplay = false

        public init(replay: [UInt8] = []) { self.replay = replay }
    }

    public enum Chunking: Sendable {
        case whole
        case fixed(Int)
        case random(seed: UInt64, max: Int)
    }

    public enum ReplayStart: Sendable {
        case afterLogin
        /// After answering the client's `Status` (the end of its resync).
        case afterResync
    }

    public let port: Int
    private let serverChannel: any Channel
    private let record: Mutex<Record>

    struct Record {
        var connections = 0
        var actions: [AMIMessage] = []
        /// The connection accepted last: `push` writes to it.
        var live: (any Channel)?
        /// Tests waiting for an action by name.
        var waiters: [(name: String, continuation: CheckedContinuation<Void, Never>)] = []
    }

    /// Connections accepted so far.
    public var connections: Int { record.withLock { $0.connections } }
    /// Every action received, in order, over all connections.
    public var actions: [AMIMessage] { record.withLock { $0.actions } }

    private init(port: Int, serverChannel: any Channel) {
        self.port = port
        self.serverChannel = serverChannel
        self.record = Mutex(Record())
    }

    /// The fakes' own event loop: a replay writes its whole script in one go (one byte per write, in some tests), which
    /// on NIO's shared loops held up every other socket of the test process for seconds (the HTTP tests' connects
    /// timed out, the webhook receiver's answers waited).
    public static let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    public static func start(_ scripts: [Script], group: any EventLoopGroup = FakeAsterisk.loops) async throws -> FakeAsterisk {
        precondition(!scripts.isEmpty)
        let shared = Shared()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                let index = shared.nextConnection()
                let script = scripts[min(index, scripts.count - 1)]
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(FakeAsteriskHandler(script: script, shared: shared))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let fake = FakeAsterisk(port: channel.localAddress!.port!, serverChannel: channel)
        shared.attach(fake)
        return fake
    }

    public func stop() async {
        try? await serverChannel.close()
    }

    fileprivate func recordConnection(_ channel: any Channel) {
        record.withLock {
            $0.connections += 1
            $0.live = channel
        }
    }

    /// Writes bytes to the current connection, as Asterisk would send events live (benchmarks pace calls with it).
    public func push(_ bytes: [UInt8]) async throws {
        guard let channel = record.withLock({ $0.live }) else { throw NotConnected() }
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    public struct NotConnected: Error {}
    fileprivate func recordAction(_ action: AMIMessage) {
        let name = action["Action"] ?? ""
        let ready = record.withLock { record -> [CheckedContinuation<Void, Never>] in
            record.actions.append(action)
            let matching = record.waiters.filter { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            record.waiters.removeAll { $0.name.caseInsensitiveCompare(name) == .orderedSame }
            return matching.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    /// Returns once an action with this name has arrived (at once if one already did): no sleeping on races.
    public func waitForAction(_ name: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let seen = record.withLock { record -> Bool in
                if record.actions.contains(where: { ($0["Action"] ?? "").caseInsensitiveCompare(name) == .orderedSame }) { return true }
                record.waiters.append((name, continuation))
                return false
            }
            if seen { continuation.resume() }
        }
    }
}

/// Lets the connection handlers reach the server object created after `bind`.
private final class Shared: Sendable {
    private let state = Mutex<(connections: Int, fake: FakeAsterisk?)>((0, nil))
    func nextConnection() -> Int {
        state.withLock { value in
            defer { value.connections += 1 }
            return value.connections
        }
    }
    func attach(_ fake: FakeAsterisk) { state.withLock { $0.fake = fake } }
    var fake: FakeAsterisk? { state.withLock { $0.fake } }
}

private final class FakeAsteriskHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let script: FakeAsterisk.Script
    private let shared: Shared
    private var decoder = AMIDecoder(sender: .client)
    private var loggedIn = false
    private var replayed = false

    init(script: FakeAsterisk.Script, shared: Shared) {
        self.script = script
        self.shared = shared
    }

    func channelActive(context: ChannelHandlerContext) {
        shared.fake?.recordConnection(context.channel)
        if let banner = script.banner { write("\(banner)\r\n", context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        decoder.feed(unwrapInboundIn(data))
        while let output = decoder.next() {
            guard case .message(let action) = output else { continue }
            shared.fake?.recordAction(action)
            respond(to: action, context)
        }
    }

    private func respond(to action: AMIMessage, _ context: ChannelHandlerContext) {
        let id = action.actionID ?? ""
        switch action["Action"]?.lowercased() ?? "" {
        case "challenge":
            write(reply(id, [("Challenge", script.challenge)]), context)
        case "login":
            let plainOK = action["Secret"] == script.secret
            let md5OK = action["AuthType"]?.lowercased() == "md5"
                && action["Key"] == AMILogin.md5Key(challenge: script.challenge, secret: script.secret)
            guard action["Username"] == script.username, plainOK || md5OK else {
                write(reply(id, [("Message", "Authentication failed")], response: "Error"), context)
                context.close(promise: nil)  // as Asterisk does shortly after a failed login
                return
            }
            loggedIn = true
            write(reply(id, [("Message", "Authentication accepted")])
                + "Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n", context)
            if script.replayStarts == .afterLogin { replay(context) }
        case "coreshowchannels" where loggedIn:
            write(list(id, event: "CoreShowChannel", complete: "CoreShowChannelsComplete"), context)
        case "status" where loggedIn:
            write(list(id, event: "Status", complete: "StatusComplete"), context)
            if script.replayStarts == .afterResync { replay(context) }
        case "ping" where loggedIn:
            if script.answersPing { write(reply(id, [("Ping", "Pong"), ("Timestamp", "1795439692.468525")]), context) }
        case "logoff" where script.answersLogoff:
            write(reply(id, [("Message", "Thanks for all the fish.")], response: "Goodbye"), context)
            context.close(promise: nil)
        case "logoff":
            break
        default:
            write(reply(id, [("Message", "Permission denied")], response: "Error"), context)
        }
    }

    private func replay(_ context: ChannelHandlerContext) {
        guard !replayed else { return }
        replayed = true
        var bytes = script.replay[...]
        if let cut = script.cutAfterBytes { bytes = bytes.prefix(cut) }
        var random: SplitMix64
        if case .random(let seed, _) = script.chunking { random = SplitMix64(seed: seed) } else { random = SplitMix64(seed: 1) }
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let size: Int = switch script.chunking {
            case .whole: bytes.count
            case .fixed(let size): size
            case .random(_, let max): Int.random(in: 1...max, using: &random)
            }
            let end = min(bytes.endIndex, start + max(1, size))
            context.write(wrapOutboundOut(ByteBuffer(bytes: bytes[start..<end])), promise: nil)
            context.flush()
            start = end
        }
        if script.cutAfterBytes != nil || script.closesAfterReplay { context.close(promise: nil) }
    }

    private func reply(_ id: String, _ fields: [(String, String)], response: String = "Success") -> String {
        (["Response: \(response)", "ActionID: \(id)"] + fields.map { "\($0.0): \($0.1)" }).joined(separator: "\r\n") + "\r\n\r\n"
    }

    private func list(_ id: String, event: String, complete: String) -> String {
        var text = reply(id, [("EventList", "start"), ("Message", "Channels will follow")])
        for channel in script.liveChannels {
            text += (["Event: \(event)", "ActionID: \(id)"] + channel.map { "\($0.0): \($0.1)" }).joined(separator: "\r\n") + "\r\n\r\n"
        }
        return text + "Event: \(complete)\r\nActionID: \(id)\r\nEventList: Complete\r\nListItems: \(script.liveChannels.count)\r\n\r\n"
    }

    private func write(_ text: String, _ context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
