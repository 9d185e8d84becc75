import CallTrackCore
import Hummingbird

/// The webhook endpoints a running daemon delivers to, for a replay without a restart.
public protocol WebhookReplays: Sendable {
    /// The configured endpoints' ids.
    var endpoints: [String] { get }
    /// Sends `endpoint` its changes enqueued at or after `since` again (and its dead letters among them).
    func replay(endpoint: String, since: Timestamp) async throws -> WebhookReplayStatus
}

/// What became of a replay asked for.
public enum WebhookReplayStatus: Sendable, Hashable {
    /// The endpoint's cursor moved back: this many changes wait for it.
    case started(waiting: Int)
    /// The endpoint is retrying a batch: the replay starts after it.
    case queued
    /// The endpoint's delivery is not running (yet).
    case notRunning
}

/// `POST /v1/admin/webhooks/{endpoint}/replay?since=2026-12-07T10:00:00Z` (or `since=6h`): what
/// `calltrackd webhooks replay` asks a running daemon.
struct WebhookReplayRoute {
    let replays: any WebhookReplays
    let clock: any WallClock

    struct Answer: Encodable {
        var endpoint: String
        var since: String
        /// Changes that now wait for the endpoint; absent while the replay is queued.
        var waiting: Int?
        var queued: Bool
    }

    func register(on admin: RouterGroup<APIContext>) {
        admin.post("/webhooks/{endpoint}/replay") { request, context in
            let endpoint = try context.parameters.decoded("endpoint")
            guard replays.endpoints.contains(endpoint) else {
                throw APIError(.notFound, "no webhook endpoint '\(AdminRoutes.quoted(endpoint))' is configured: write one of \(replays.endpoints.isEmpty ? "(none configured)" : replays.endpoints.joined(separator: ", "))")
            }
            let now = clock.now()
            guard let text = request.uri.queryParameters["since"].map(String.init),
                  let since = APITime.parse(text) ?? DurationText.parse(text).map({ now - $0 }) else {
                throw APIError(.badRequest, "since must be a time (2026-12-07T10:00:00Z) or a span back from now (6h, 3d)")
            }
            let status: WebhookReplayStatus
            do { status = try await replays.replay(endpoint: endpoint, since: since) } catch {
                throw APIError(.serviceUnavailable, "the replay was not started (\(error)); try again")
            }
            switch status {
            case .started(let waiting):
                return try jsonResponse(Answer(endpoint: endpoint, since: APITime.format(since), waiting: waiting, queued: false))
            case .queued:
                return try jsonResponse(Answer(endpoint: endpoint, since: APITime.format(since), waiting: nil, queued: true), status: .accepted)
            case .notRunning:
                throw APIError(.serviceUnavailable, "webhook endpoint '\(endpoint)' is not running yet; try again in a moment")
            }
        }
    }
}
