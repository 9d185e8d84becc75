import CallTrackCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization
import TestSupport
import Webhooks

/// A real HTTPS webhook receiver on loopback, with a self-signed certificate made by openssl for the test. It
/// checks every request's signature with the endpoint's secret, answers what `policy` says (500 for a while,
/// then 200), and keeps what it received in arrival order, stamped with the test's clock.
final class WebhookReceiver: Sendable {
    /// One request as it arrived, and what the receiver answered.
    struct Request: Sendable {
        var index: Int
        var headers: [String: String]
        var body: [UInt8]
        var signatureValid: Bool
        var at: Timestamp
        var status: Int
        /// This request's attempt at its delivery id (1 for the first).
        var attempt: Int

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var deliveryID: String { json["delivery_id"] as? String ?? "" }
        var changeID: Int64 { (json["change_id"] as? NSNumber)?.int64Value ?? -1 }
        var leadVersion: Int64 { (json["lead_version"] as? NSNumber)?.int64Value ?? -1 }
        var callID: String { (json["lead"] as? [String: Any])?["call_id"] as? String ?? "" }
    }

    /// What to answer a request: its delivery id's attempt number and its call id are known.
    typealias Policy = @Sendable (_ attempt: Int, _ callID: String, _ index: Int) -> Int

    private struct State {
        var requests: [Request] = []
        var attempts: [String: Int] = [:]
        var policy: Policy
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let port: Int
    let certificate: String
    private let channel: any NIOCore.Channel
    private let state: Mutex<State>
    private let secret: [UInt8]
    private let clock: any WallClock

    private init(port: Int, certificate: String, channel: any NIOCore.Channel, secret: [UInt8], clock: any WallClock, policy: @escaping Policy) {
        self.port = port
        self.certificate = certificate
        self.channel = channel
        self.secret = secret
        self.clock = clock
        self.state = Mutex(State(policy: policy))
    }

    /// Starts a receiver on 127.0.0.1 with a fresh self-signed certificate in `directory`.
    static func start(in directory: TemporaryDirectory, secret: [UInt8], clock: any WallClock, policy: @escaping Policy = { _, _, _ in 200 }) async throws -> WebhookReceiver {
        let (cert, key) = (directory.file("receiver.crt"), directory.file("receiver.key"))
        let made = try await runProgram([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=webhook-receiver",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ])
        guard made.status == 0 else { throw ReceiverFailure(description: "openssl could not make a certificate: \(made.output)") }
        let context = try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))))
        let box = ReceiverBox()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = WebhookReceiver(port: channel.localAddress?.port ?? 0, certificate: cert, channel: channel, secret: secret,
                                       clock: clock, policy: policy)
        box.set(receiver)
        return receiver
    }

    var url: String { "https://127.0.0.1:\(port)/hooks/calltrackd" }

    /// Every request so far, in arrival order.
    var requests: [Request] { state.withLock { $0.requests } }

    /// The requests answered 2xx, in arrival order.
    var accepted: [Request] { requests.filter { (200..<300).contains($0.status) } }

    func setPolicy(_ policy: @escaping Policy) { state.withLock { $0.policy = policy } }

    /// Returns once `count` requests have arrived.
    func waitForRequests(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                if state.requests.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }

    func close() async { try? await channel.close() }

    /// Checks and records one request; returns the status to answer. Runs on the connection's event loop: only a
    /// lock and an HMAC, nothing that blocks.
    fileprivate func received(headers: HTTPHeaders, body: [UInt8]) -> Int {
        let timestamp = headers.first(name: WebhookSignature.timestampHeader).flatMap { Int64($0) }
        let signature = headers.first(name: WebhookSignature.signatureHeader) ?? ""
        let valid = timestamp.map { WebhookSignature.verify(header: signature, body: body, timestamp: $0, secret: secret) } ?? false
        var request = Request(index: 0, headers: Dictionary(headers.map { ($0.name.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a }),
                              body: body, signatureValid: valid, at: clock.now(), status: 0, attempt: 0)
        let (deliveryID, callID) = (request.deliveryID, request.callID)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.attempts[deliveryID, default: 0] += 1
            request.attempt = state.attempts[deliveryID]!
            request.index = state.requests.count
            request.status = valid ? state.policy(request.attempt, callID, request.index) : 401
            state.requests.append(request)
            let count = state.requests.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
        return request.status
    }
}

struct ReceiverFailure: Error, CustomStringConvertible {
    var description: String
}

/// The receiver, set once it is made (the server starts before it); read by each connection's handler.
private final class ReceiverBox: Sendable {
    private let receiver = Mutex<WebhookReceiver?>(nil)
    func set(_ value: WebhookReceiver) { receiver.withLock { $0 = value } }
    var value: WebhookReceiver? { receiver.withLock { $0 } }
}

/// Collects one request (head and body) and answers with the receiver's status and an empty body, keeping the
/// connection open.
private final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: ReceiverBox
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(box: ReceiverBox) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let status = box.value?.received(headers: head.headers, body: body) ?? 503
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            let response = HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
