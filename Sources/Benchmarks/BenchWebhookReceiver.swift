import CallTrackCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TestSupport
import Webhooks

/// The webhook benchmarks' receiver: HTTPS on loopback with a self-signed certificate made by openssl, checking
/// every signature as a real receiver does, answering 200, and noting when each lead's first change arrived.
/// With an `answerDelay` it is a slow receiver: each answer leaves that long after its request arrived, on a timer
/// of the connection's event loop, so the loop keeps serving other connections meanwhile.
final class BenchWebhookReceiver: Sendable {
    private struct State {
        var count = 0
        var bad = 0
        var connections = 0
        var firstArrival: [String: ContinuousClock.Instant] = [:]
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let port: Int
    let certificate: String
    private let channel: any NIOCore.Channel
    private let state = Mutex(State())
    private let secret: [UInt8]

    private init(port: Int, certificate: String, channel: any NIOCore.Channel, secret: [UInt8]) {
        self.port = port
        self.certificate = certificate
        self.channel = channel
        self.secret = secret
    }

    static func start(in directory: String, secret: [UInt8], answerDelay: TimeAmount = .zero) async throws -> BenchWebhookReceiver {
        let (cert, key) = ("\(directory)/receiver.crt", "\(directory)/receiver.key")
        let made = try await runProgram([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=bench-receiver", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        guard made.status == 0 else { throw BenchReceiverFailure(description: "openssl: \(made.output)") }
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        let holder = BenchReceiverHolder()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                holder.receiver?.connected()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(BenchRequestHandler(holder: holder, answerDelay: answerDelay))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = BenchWebhookReceiver(port: channel.localAddress?.port ?? 0, certificate: cert, channel: channel, secret: secret)
        holder.set(receiver)
        return receiver
    }

    var url: String { "https://127.0.0.1:\(port)/hook" }
    var count: Int { state.withLock { $0.count } }
    var badSignatures: Int { state.withLock { $0.bad } }
    /// Connections accepted so far (each a TLS handshake).
    var connections: Int { state.withLock { $0.connections } }

    fileprivate func connected() { state.withLock { $0.connections += 1 } }
    func firstArrival(of callID: String) -> ContinuousClock.Instant? { state.withLock { $0.firstArrival[callID] } }

    /// Returns once `count` requests arrived in all.
    func waitFor(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func close() async { try? await channel.close() }

    /// Checks the signature, notes the lead's first arrival (when the request arrived, not when it is answered); on
    /// the connection's event loop (a lock and an HMAC).
    fileprivate func received(headers: HTTPHeaders, body: [UInt8]) {
        let now = ContinuousClock.now
        let timestamp = headers.first(name: WebhookSignature.timestampHeader).flatMap { Int64($0) } ?? 0
        let valid = WebhookSignature.verify(header: headers.first(name: WebhookSignature.signatureHeader) ?? "", body: body,
                                            timestamp: timestamp, secret: secret)
        let callID = Self.callID(in: body)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count += 1
            if !valid { state.bad += 1 }
            if let callID, state.firstArrival[callID] == nil { state.firstArrival[callID] = now }
            let ready = state.waiters.filter { $0.count <= state.count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= state.count }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    /// The lead's `call_id`, found without parsing the whole body.
    static func callID(in body: [UInt8]) -> String? {
        let needle = Array(#""call_id":""#.utf8)
        guard let range = body.firstRange(of: needle) else { return nil }
        let rest = body[range.upperBound...]
        guard let end = rest.firstIndex(of: UInt8(ascii: "\"")) else { return nil }
        return String(decoding: rest[..<end], as: UTF8.self)
    }
}

struct BenchReceiverFailure: Error, CustomStringConvertible {
    var description: String
}

private final class BenchReceiverHolder: Sendable {
    private let box = Mutex<BenchWebhookReceiver?>(nil)
    func set(_ receiver: BenchWebhookReceiver) { box.withLock { $0 = receiver } }
    var receiver: BenchWebhookReceiver? { box.withLock { $0 } }
}

private final class BenchRequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let holder: BenchReceiverHolder
    private let answerDelay: TimeAmount
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    /// The answer waiting for its time; cancelled if the client goes away first.
    private var pendingAnswer: Scheduled<Void>?

    init(holder: BenchReceiverHolder, answerDelay: TimeAmount) {
        self.holder = holder
        self.answerDelay = answerDelay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.removeAll(keepingCapacity: true)
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            holder.receiver?.received(headers: head.headers, body: body)
            self.head = nil
            guard answerDelay > .zero else { return answer(version: head.version, context: context) }
            // A timer, not a sleep: the loop serves the other connections until the answer is due.
            pendingAnswer = context.eventLoop.assumeIsolated().scheduleTask(in: answerDelay) { [self] in
                pendingAnswer = nil
                answer(version: head.version, context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        pendingAnswer?.cancel()
        pendingAnswer = nil
        context.fireChannelInactive()
    }

    private func answer(version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: "0")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}
