import CallTrackCore
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TestSupport

/// Plays GA4's Measurement Protocol collect endpoint on loopback (plain HTTP, as the config allows only there).
/// Every request is checked against the documented shape, independently of the sender's code: POST to
/// /mp/collect with the property's measurement_id and api_secret, a JSON object with a string `client_id`,
/// `timestamp_micros` within the 72 hours GA4 backdates (on the test's clock), 1 to 25 events, each named by
/// GA4's rules (≤ 40 characters, letters, digits and '_', a letter first, not reserved) with at most 25 params,
/// names ≤ 40 characters, string values ≤ 100, `value` a number that comes with a 3-letter `currency`. It answers
/// what `policy` says (500 for a while, then 204, as GA4 does) and keeps what it received, in arrival order.
final class GA4Receiver: Sendable {
    struct Request: Sendable {
        var index: Int
        var target: String
        var body: [UInt8]
        var problems: [String]
        var status: Int

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        var clientID: String { json["client_id"] as? String ?? "" }
        var timestampMicros: Int64 { (json["timestamp_micros"] as? NSNumber)?.int64Value ?? -1 }
        var event: [String: Any] { (json["events"] as? [[String: Any]])?.first ?? [:] }
        var eventName: String { event["name"] as? String ?? "" }
        var params: [String: Any] { event["params"] as? [String: Any] ?? [:] }
        var callID: String { params["call_id"] as? String ?? "" }
    }

    /// What to answer the `index`-th request (0 first).
    typealias Policy = @Sendable (_ index: Int, _ request: Request) -> Int

    private struct State {
        var requests: [Request] = []
        var policy: Policy
        var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
    }

    let port: Int
    private let channel: any NIOCore.Channel
    private let state: Mutex<State>
    private let clock: any WallClock
    private let measurementID: String
    private let apiSecret: String

    private init(port: Int, channel: any NIOCore.Channel, clock: any WallClock, measurementID: String, apiSecret: String, policy: @escaping Policy) {
        self.port = port
        self.channel = channel
        self.clock = clock
        self.measurementID = measurementID
        self.apiSecret = apiSecret
        self.state = Mutex(State(policy: policy))
    }

    static func start(clock: any WallClock, measurementID: String, apiSecret: String, policy: @escaping Policy = { _, _ in 204 }) async throws -> GA4Receiver {
        let box = Box()
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(box: box))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let receiver = GA4Receiver(port: channel.localAddress?.port ?? 0, channel: channel, clock: clock, measurementID: measurementID,
                                   apiSecret: apiSecret, policy: policy)
        box.set(receiver)
        return receiver
    }

    var endpoint: String { "http://127.0.0.1:\(port)/mp/collect" }

    var requests: [Request] { state.withLock { $0.requests } }

    /// The requests answered 2xx.
    var accepted: [Request] { requests.filter { (200..<300).contains($0.status) } }

    func setPolicy(_ policy: @escaping Policy) { state.withLock { $0.policy = policy } }

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

    fileprivate func received(method: HTTPMethod, target: String, headers: HTTPHeaders, body: [UInt8]) -> Int {
        var request = Request(index: 0, target: target, body: body, problems: [], status: 0)
        request.problems = check(method: method, target: target, headers: headers, body: body)
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            request.index = state.requests.count
            request.status = request.problems.isEmpty ? state.policy(request.index, request) : 400
            state.requests.append(request)
            let count = state.requests.count
            let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
            state.waiters.removeAll { $0.count <= count }
            return ready
        }
        for continuation in ready { continuation.resume() }
        return request.status
    }

    // MARK: - The documented shape

    static let reservedNames: Set<String> = ["session_start", "first_visit", "first_open", "user_engagement", "app_remove", "error", "ad_click"]

    private func check(method: HTTPMethod, target: String, headers: HTTPHeaders, body: [UInt8]) -> [String] {
        var problems: [String] = []
        if method != .POST { problems.append("method \(method), not POST") }
        let components = URLComponents(string: target)
        if components?.path != "/mp/collect" { problems.append("path \(components?.path ?? target), not /mp/collect") }
        let query = Dictionary((components?.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { a, _ in a })
        if query["measurement_id"] != measurementID { problems.append("measurement_id \(query["measurement_id"] ?? "-")") }
        if query["api_secret"] != apiSecret { problems.append("api_secret is not the property's") }
        if headers.first(name: "content-type")?.hasPrefix("application/json") != true { problems.append("content-type is not application/json") }
        if body.count > 130_000 { problems.append("body over 130 kB") }
        guard let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return problems + ["the body is not a JSON object"]
        }
        let known: Set<String> = ["client_id", "user_id", "timestamp_micros", "user_properties", "user_data", "consent", "non_personalized_ads", "events", "user_location", "device", "validation_behavior"]
        for key in json.keys where !known.contains(key) { problems.append("unknown top-level field \(key)") }
        if ((json["client_id"] as? String) ?? "").isEmpty { problems.append("client_id is not a non-empty string") }
        if let user = json["user_id"], !(user is String) { problems.append("user_id is not a string") }
        if let micros = json["timestamp_micros"] {
            // Microseconds: an integer of 16 digits (milliseconds would have 13), as the raw text shows it.
            guard let number = micros as? NSNumber,
                  String(decoding: body, as: UTF8.self).contains(/"timestamp_micros":\s*[0-9]{16}\s*[,}]/) else {
                return problems + ["timestamp_micros is not an integer of microseconds"]
            }
            let now = clock.now().microsecondsSinceEpoch
            let value = number.int64Value
            if value > now { problems.append("timestamp_micros in the future") }
            if value < now - 72 * 3_600_000_000 { problems.append("timestamp_micros older than 72 hours") }
        }
        guard let events = json["events"] as? [[String: Any]], (1...25).contains(events.count) else {
            return problems + ["events is not an array of 1 to 25 objects"]
        }
        let namePattern = /^[A-Za-z][A-Za-z0-9_]{0,39}$/
        for event in events {
            let name = event["name"] as? String ?? ""
            if (try? namePattern.wholeMatch(in: name)) == nil { problems.append("event name '\(name)' breaks GA4's rules") }
            if Self.reservedNames.contains(name) || name.hasPrefix("ga_") || name.hasPrefix("google_") || name.hasPrefix("firebase_") {
                problems.append("event name '\(name)' is reserved")
            }
            guard let params = event["params"] as? [String: Any] else {
                if event["params"] != nil { problems.append("params is not an object") }
                continue
            }
            if params.count > 25 { problems.append("more than 25 params") }
            for (key, value) in params {
                if key.count > 40 { problems.append("param name \(key) over 40 characters") }
                if let text = value as? String, text.count > 100 { problems.append("param \(key) over 100 characters") }
                if !(value is String || value is NSNumber) { problems.append("param \(key) is neither a string nor a number") }
            }
            if let value = params["value"] {
                if value is String || (value as? NSNumber) == nil { problems.append("value is not a number") }
                let currency = params["currency"] as? String ?? ""
                if (try? /^[A-Z]{3}$/.wholeMatch(in: currency)) == nil { problems.append("value without a 3-letter currency") }
            }
            if let session = params["session_id"] {
                let text = (session as? String) ?? (session as? NSNumber)?.stringValue ?? ""
                if (try? /^[0-9]{1,20}$/.wholeMatch(in: text)) == nil { problems.append("session_id '\(text)' is not a number") }
            }
            if let engagement = params["engagement_time_msec"], (engagement as? NSNumber) == nil || engagement is String {
                problems.append("engagement_time_msec is not a number")
            }
        }
        return problems
    }
}

private final class Box: Sendable {
    private let receiver = Mutex<GA4Receiver?>(nil)
    func set(_ value: GA4Receiver) { receiver.withLock { $0 = value } }
    var value: GA4Receiver? { receiver.withLock { $0 } }
}

/// Collects one request and answers with the receiver's status and an empty body, keeping the connection open.
private final class Handler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let box: Box
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []

    init(box: Box) { self.box = box }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = []
        case .body(var buffer):
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else { return }
            let status = box.value?.received(method: head.method, target: head.uri, headers: head.headers, body: body) ?? 503
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: status), headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
