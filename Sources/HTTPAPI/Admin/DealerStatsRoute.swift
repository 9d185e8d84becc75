import CallTrackCore
import Foundation
import Hummingbird

/// Each dealer's figures over a period, as the app computes them (`DealerStats.summarize` over the stored hours
/// and missed calls); the adapter only parses the period and shapes the JSON.
public protocol DealerStatsSource: Sendable {
    func dealerStats(from: Timestamp, to: Timestamp) async throws -> [DealerStats]
    /// How long a dealer has to call a missed caller back (`dealer_stats.callback_window`).
    var callbackWindow: Duration { get }
}

/// `GET /v1/admin/dealers/stats?from=&to=`: per dealer, calls offered, answered, missed, abandoned, busy, time to
/// answer, talk time, leads, junk, missed and not called back, and the weight its answer rate suggests. The period
/// is the last 7 days unless given, at most 400 days (the hours kept).
struct DealerStatsRoute {
    let source: any DealerStatsSource
    let clock: any WallClock

    func register(on admin: RouterGroup<APIContext>) {
        admin.get("/dealers/stats") { request, _ in
            let parameters = request.uri.queryParameters
            func time(_ name: String) throws -> Timestamp? {
                guard let text = parameters.get(name) else { return nil }
                guard let time = APITime.parse(text) else {
                    throw APIError(.badRequest, "\(name): '\(text)' is not a time: write ISO 8601 with an offset, e.g. 2026-12-01T00:00:00Z")
                }
                return time
            }
            let to = try time("to") ?? clock.now()
            let from = try time("from") ?? to - .seconds(7 * 86_400)
            guard from < to else { throw APIError(.badRequest, "from must be before to") }
            guard to - from <= .seconds(400 * 86_400) else { throw APIError(.badRequest, "a period of at most 400 days: the hours kept") }
            let stats: [DealerStats]
            do { stats = try await source.dealerStats(from: from, to: to) } catch {
                throw APIError(.serviceUnavailable, "dealer statistics cannot be read now (\(error)); try again")
            }
            return try jsonResponse(DealerStatsAnswer(
                from: APITime.format(from), to: APITime.format(to),
                callback_window_seconds: Int(source.callbackWindow.components.seconds), dealers: stats.map(DealerStatsAnswer.Dealer.init)))
        }
    }
}

/// The JSON of `GET /v1/admin/dealers/stats` (snake_case, ISO 8601 times) and of `calltrackd dealers --json`.
public struct DealerStatsAnswer: Encodable, Sendable {
    public var from: String
    public var to: String
    public var callback_window_seconds: Int
    public var dealers: [Dealer]

    public init(from: String, to: String, callback_window_seconds: Int, dealers: [Dealer]) {
        self.from = from
        self.to = to
        self.callback_window_seconds = callback_window_seconds
        self.dealers = dealers
    }

    public struct Dealer: Encodable, Sendable {
        var dealer_id: String
        var offered: Int
        var answered: Int
        var missed: Int
        var abandoned: Int
        var busy: Int
        var answer_rate: Double?
        var answer_seconds_p50: Int?
        var answer_seconds_p90: Int?
        var talk_seconds: Int
        var leads: Int
        var junk: Int
        var missed_not_called_back: Int
        var called_back: Int
        var awaiting_callback: Int
        var weight: Int?
        var weight_auto: Bool
        var suggested_weight: Int?
        var won: Int
        var conversion: Double?

        public init(_ s: DealerStats) {
            (dealer_id, offered, answered, missed, abandoned, busy) = (s.dealer, s.offered, s.answered, s.missed, s.abandoned, s.busy)
            (answer_rate, answer_seconds_p50, answer_seconds_p90) = (s.answerRate, s.answerSecondsP50, s.answerSecondsP90)
            (talk_seconds, leads, junk) = (s.talkSeconds, s.leads, s.junk)
            (missed_not_called_back, called_back, awaiting_callback) = (s.missedNotCalledBack, s.calledBack, s.awaitingCallback)
            (weight, weight_auto, suggested_weight) = (s.weight, s.weightIsAuto, s.suggestedWeight)
            (won, conversion) = (s.won, s.conversion)
        }
    }
}
