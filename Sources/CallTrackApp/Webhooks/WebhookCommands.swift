import CallTrackCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPAPI
import Logging
import Store
import Webhooks

/// `calltrackd webhooks` (each endpoint's cursor lag and dead letters, from the state database) and
/// `calltrackd webhooks replay` (its changes since a time sent again).
public enum WebhookCommands {
    /// Why a command could not do what was asked, and what to do.
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// One line per endpoint: configured ones first, then cursors of endpoints no longer configured.
    public static func status(config: AppConfig, now: Timestamp, json: Bool) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            return ["no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir"]
        }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.webhooks"))
        let outbox = Outbox(store: store, topic: Outbox.leadTopic)
        let cursors = try await outbox.cursors()
        let prefix = WebhookEndpoint.destinationName("")
        let configured = config.webhooks.map { ($0.id, $0.url.text) }
        let forgotten = cursors.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
            .filter { id in !configured.contains { $0.0 == id } }.sorted().map { ($0, "(not configured)") }
        var rows: [EndpointStatus] = []
        for (id, url) in configured + forgotten {
            let name = WebhookEndpoint.destinationName(id)
            let stats = try await outbox.stats(for: name)
            let last = try await outbox.failed(for: name, limit: 1).first
            rows.append(EndpointStatus(
                endpoint: id, url: url, registered: cursors[name] != nil, cursor: cursors[name], waiting: stats.pending,
                oldest_waiting_seconds: stats.oldestPendingAt.map { max(0, Int((now - $0).secondsDouble)) },
                dead_letters: stats.failed, last_dead_letter: last?.error, last_dead_letter_change: last?.entry.id))
        }
        if json {
            return rows.map { row in (try? JSONEncoder.api.encode(row)).map { String(decoding: $0, as: UTF8.self) } ?? "{}" }
        }
        if rows.isEmpty { return ["no webhook endpoint configured (site.<id>.webhooks, webhook.<id>.url)"] }
        var lines = ["endpoint        cursor      waiting  oldest waiting  dead letters  url"]
        for row in rows {
            lines.append([
                row.endpoint.padding(16), (row.cursor.map(String.init) ?? "not yet").padding(12), String(row.waiting).padding(9),
                (row.oldest_waiting_seconds.map { DurationText.format(.seconds($0)) } ?? "-").padding(16),
                String(row.dead_letters).padding(14), row.url,
            ].joined())
            if let error = row.last_dead_letter, let change = row.last_dead_letter_change {
                lines.append("    last dead letter: change \(change): \(error)")
            }
        }
        if rows.contains(where: { $0.dead_letters > 0 }) {
            lines.append("send dead letters again: calltrackd webhooks replay --endpoint <id> --since <time>")
        }
        return lines
    }

    /// `endpoint`'s changes enqueued at or after `since`, and its dead letters among them, go again. With the daemon
    /// stopped, its cursor moves back in the state database (they go at the next start); while it runs, which keeps
    /// each endpoint's cursor in memory, the daemon is asked through its admin API (`admin.token`).
    public static func replay(config: AppConfig, endpoint: String, since: Timestamp, now: Timestamp) async throws -> [String] {
        guard config.webhooks.contains(where: { $0.id == endpoint }) else {
            let known = config.webhooks.map(\.id)
            throw Refused(description: "no webhook endpoint '\(endpoint)' is configured: write one of \(known.isEmpty ? "(none configured)" : known.joined(separator: ", "))")
        }
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            throw Refused(description: "no state database at \(config.databasePath): nothing was delivered yet")
        }
        let lock: DataFolderLock
        do { lock = try DataFolderLock(dataDirectory: config.dataDirectory) } catch is DataFolderLock.Busy {
            return try await askRunningDaemon(config: config, endpoint: endpoint, since: since)
        }
        defer { withExtendedLifetime(lock) {} }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.webhooks"))
        let outbox = Outbox(store: store, topic: Outbox.leadTopic)
        guard let waiting = try await outbox.rewind(WebhookEndpoint.destinationName(endpoint), since: since, at: now) else {
            throw Refused(description: "webhook endpoint '\(endpoint)' has not run yet: start the daemon; it gets the changes from then on")
        }
        return ["webhook \(endpoint): the changes since \(since.iso8601) go again when the daemon starts; \(waiting) change(s) now wait for it"]
    }

    /// `POST /v1/admin/webhooks/{endpoint}/replay` on the daemon that holds the data folder, over loopback.
    static func askRunningDaemon(config: AppConfig, endpoint: String, since: Timestamp) async throws -> [String] {
        guard let token = config.api.adminToken else {
            throw Refused(description: "the daemon is running and no admin.token is configured to ask it: set admin.token (or CALLTRACKD_ADMIN_TOKEN), or stop the daemon and replay")
        }
        let host = ["0.0.0.0", "::", ""].contains(config.httpHost) ? "127.0.0.1" : config.httpHost
        let scheme = config.httpTLS == nil ? "http" : "https"
        let since = since.iso8601
        guard let url = URL(string: "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(config.httpPort)/v1/admin/webhooks/\(endpoint)/replay?since=\(since)") else {
            throw Refused(description: "cannot make the daemon's address from http.host \(config.httpHost) and http.port \(config.httpPort)")
        }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response): (Data, URLResponse)
        do { (data, response) = try await URLSession.shared.data(for: request) } catch {
            throw Refused(description: "the daemon holds the data folder but does not answer at \(url.absoluteString) (\(error.localizedDescription)): check http.host and http.port, or stop it and replay")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        let body = String(decoding: data, as: UTF8.self)
        if status == 202 {
            return ["webhook \(endpoint): the endpoint is retrying a batch; the running daemon sends the changes since \(since) again after it"]
        }
        guard status == 200 else { throw Refused(description: "the running daemon refused the replay (HTTP \(status)): \(body)") }
        let waiting = (try? JSONSerialization.jsonObject(with: data) as? [String: Any])?["waiting"] as? Int ?? 0
        return ["webhook \(endpoint): the running daemon sends the changes since \(since) again; \(waiting) change(s) now wait for it"]
    }

    /// `--since`: an ISO 8601 time (`2026-12-07T10:00:00Z`) or a span back from now (`2h`, `3d`).
    public static func parseSince(_ text: String, now: Timestamp) -> Timestamp? {
        if let time = APITime.parse(text) { return time }
        return DurationText.parse(text).map { now - $0 }
    }

    struct EndpointStatus: Encodable {
        var endpoint: String
        var url: String
        var registered: Bool
        var cursor: Int64?
        var waiting: Int
        var oldest_waiting_seconds: Int?
        var dead_letters: Int
        var last_dead_letter: String?
        var last_dead_letter_change: Int64?
    }
}
