import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import Store

/// Each dealer's figures over a period: the stored hours and missed calls, summarized by `DealerStats` with the
/// configured dealers and the callback window. Serves `GET /v1/admin/dealers/stats` and `calltrackd dealers`.
public struct DealerStatsDesk: DealerStatsSource {
    let statistics: any DealerHistory
    /// The leads, for what the CRM reported of each dealer's (its conversion).
    let leads: (any LeadStore)?
    /// The dealers routing uses now (the config file's, changed through the admin API).
    let dealers: @Sendable () -> [Dealer]
    public let callbackWindow: Duration
    let clock: any WallClock

    public init(
        statistics: any DealerHistory, leads: (any LeadStore)?, dealers: @escaping @Sendable () -> [Dealer], callbackWindow: Duration,
        clock: any WallClock
    ) {
        self.statistics = statistics
        self.leads = leads
        self.dealers = dealers
        self.callbackWindow = callbackWindow
        self.clock = clock
    }

    /// Calls started in [from, to), and the misses that ended then, judged against the window now.
    public func dealerStats(from: Timestamp, to: Timestamp) async throws -> [DealerStats] {
        try await dealerStats(from: from, to: to, at: clock.now())
    }

    /// As of `now`: a miss is not called back once its window closed by then.
    public func dealerStats(from: Timestamp, to: Timestamp, at now: Timestamp) async throws -> [DealerStats] {
        let hours = try await statistics.hours(from: DealerHour.hour(of: from), to: to)
        let missed = try await statistics.missedCalls(from: from, to: to)
        let conversions = try await leads?.dealerConversions(from: from, to: to) ?? [:]
        return DealerStats.summarize(hours: hours, missed: missed, callbackWindow: callbackWindow, at: now, configured: dealers(),
                                     conversions: conversions)
    }
}

/// `calltrackd dealers`: per dealer of the config and any other with stored calls, the figures a sales director
/// compares dealers by; `--json` gives the answer of `GET /v1/admin/dealers/stats`.
public enum DealerListing {
    public static func lines(config: AppConfig, days: Int, now: Timestamp, json: Bool) async throws -> [String] {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            return ["no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir"]
        }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.dealers"))
        let dealers = try await DealerOrigins.settled(config: config, store: store, logger: Logger(label: "calltrackd.dealers"))
        let desk = DealerStatsDesk(statistics: DealerStatisticsStore(store: store),
                                   leads: LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic)), dealers: { dealers },
                                   callbackWindow: config.callbackWindow, clock: SystemClock())
        let from = now - .seconds(Int64(max(1, days)) * 86_400)
        let stats = try await desk.dealerStats(from: from, to: now, at: now)
        return json ? [try Self.json(stats, from: from, to: now, window: config.callbackWindow)] : table(stats, window: config.callbackWindow)
    }

    static func json(_ stats: [DealerStats], from: Timestamp, to: Timestamp, window: Duration) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let answer = DealerStatsAnswer(from: APITime.format(from), to: APITime.format(to),
                                       callback_window_seconds: Int(window.components.seconds), dealers: stats.map(DealerStatsAnswer.Dealer.init))
        return String(decoding: try encoder.encode(answer), as: UTF8.self)
    }

    /// A terminal table, one dealer a row.
    public static func table(_ stats: [DealerStats], window: Duration) -> [String] {
        guard !stats.isEmpty else { return ["no dealers configured and no dealer calls stored"] }
        let header = ["dealer", "offered", "answered", "answer%", "missed", "busy", "abandoned", "answer p50/p90", "talk", "leads", "junk",
                      "not called back (\(DurationText.format(window)))", "won", "conversion", "weight", "suggested"]
        let rows = stats.map { s -> [String] in
            [s.dealer, String(s.offered), String(s.answered), s.answerRate.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
             String(s.missed), String(s.busy), String(s.abandoned),
             "\(s.answerSecondsP50.map { "\($0)s" } ?? "-")/\(s.answerSecondsP90.map { "\($0)s" } ?? "-")",
             DurationText.format(.seconds(Int64(s.talkSeconds))), String(s.leads), String(s.junk),
             String(s.missedNotCalledBack) + (s.awaitingCallback > 0 ? " (+\(s.awaitingCallback) waiting)" : ""),
             String(s.won), s.conversion.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
             s.weight.map { s.weightIsAuto ? "auto" : String($0) } ?? "-", s.suggestedWeight.map(String.init) ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.indices.map { row[$0] + String(repeating: " ", count: widths[$0] - row[$0].count) }.joined(separator: "  ")
        }
    }
}
