import CallTrackCore
import Foundation

/// `calltrackd simulate`: runs the simulator over a range of pool sizes and says, first, which pool meets the
/// target; then a row per size with the measured rates beside Erlang B's prediction.
public struct SimulationReport: Sendable {
    public var simulator: PoolSimulator
    /// Highest acceptable share of calls not credited to the visit that made them.
    public var targetError: Double
    public var rows: [SimulationOutcome] = []
    /// Erlang B's pool for < 1% exhaustion at the busiest hour, from the holding time the runs measured.
    public var recommended = 0
    /// With `--from-stats`: the pool's measured traffic the simulator replays.
    public var measured: MeasuredTraffic?
    /// The mean holding time (lease and cooldown) the probe run simulated, to set beside the measured one.
    public var simulatedHoldingSeconds = 0.0

    public init(simulator: PoolSimulator, targetError: Double, measured: MeasuredTraffic? = nil) {
        self.simulator = simulator
        self.targetError = targetError
        self.measured = measured
    }

    /// The sizes to try when none are given: from half to one and a half times Erlang B's 1% pool, in about
    /// ten steps, measured first on a pool that never runs out (`probe` runs that one).
    public static func defaultSizes(recommended: Int) -> [Int] {
        let low = max(1, recommended / 2), high = max(low + 1, recommended * 3 / 2)
        let step = max(1, (high - low) / 10)
        return Array(Set(Array(stride(from: low, through: high, by: step)) + [recommended])).sorted()
    }

    /// Runs every size; `progress` hears the share of all runs done.
    public mutating func run(sizes: [Int]?, progress: ((Double) -> Void)? = nil) {
        let probe = simulator.run(poolSize: max(50, Int(simulator.profile.busiestHourArrivals * 4)))
        recommended = simulator.recommendedSize(holding: probe, target: 0.01)
        simulatedHoldingSeconds = probe.meanHoldingSeconds
        let sizes = sizes ?? Self.defaultSizes(recommended: recommended)
        rows = []
        for (index, size) in sizes.enumerated() {
            rows.append(simulator.run(poolSize: size) { share in progress?((Double(index) + share) / Double(sizes.count)) })
        }
    }

    /// The smallest size tried whose misattribution is within the target.
    public var smallestMeetingTarget: Int? { rows.filter { $0.misattribution <= targetError }.map(\.poolSize).min() }

    public var text: String {
        let profile = simulator.profile
        var lines: [String] = []
        if let best = smallestMeetingTarget {
            lines.append("\(best) numbers credit ≥ \(Self.percent(1 - targetError)) of calls to the visit that made them (Erlang B's 1% pool: \(recommended)).")
        } else {
            lines.append("No size tried credits ≥ \(Self.percent(1 - targetError)) of calls to the right visit: try larger pools (Erlang B's 1% pool: \(recommended)) or a longer cooldown.")
        }
        if let measured {
            lines.append("Traffic: pool \(measured.poolID)'s own \(measured.sessions) visits from \(measured.from.iso8601) to \(measured.to.iso8601), hour by hour (busiest hour \(Int(profile.busiestHourArrivals))), \(Self.percent(profile.callShare)) call after a median \(DurationText.format(profile.callDelayMedian)), seed \(simulator.seed).")
            lines.append("A number stays held \(Self.minutes(measured.meanHoldingSeconds)) per lease as measured, \(Self.minutes(simulatedHoldingSeconds)) as simulated (cooldown included).")
        } else {
            lines.append("Traffic: \(Int(profile.visitsPerDay)) visits a day (\(Self.percent(profile.botShare)) bots), \(Self.percent(profile.callShare)) call after a median \(DurationText.format(profile.callDelayMedian)), \(simulator.days) days, seed \(simulator.seed).")
        }
        lines.append("")
        let header = ["pool", "misattributed", "exhausted (busiest h)", "Erlang B", "collisions", "true collisions", "late", "calls"]
        let table = rows.map { row in
            [String(row.poolSize), Self.percent(row.misattribution), Self.percent(row.busiestHourExhaustionRate),
             Self.percent(row.predictedExhaustion), Self.percent(row.collisionRate), Self.percent(row.trueCollisionRate),
             Self.percent(row.lateRate), String(row.calls)]
        }
        let widths = header.indices.map { column in ([header] + table).map { $0[column].count }.max() ?? 0 }
        for line in [header] + table {
            lines.append(line.indices.map { String(repeating: " ", count: widths[$0] - line[$0].count) + line[$0] }.joined(separator: "  "))
        }
        return lines.joined(separator: "\n")
    }

    public var json: String {
        struct Document: Encodable {
            var recommended_erlang_b: Int
            var smallest_meeting_target: Int?
            var target_error: Double
            var measured: Measured?
            var rows: [SimulationOutcome]
        }
        struct Measured: Encodable {
            var pool_id: String
            var from: String
            var to: String
            var sessions: Int
            var busiest_hour_sessions: Int
            var mean_holding_seconds: Double
            var simulated_holding_seconds: Double
            var call_share: Double?
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        let replayed = measured.map { m in
            Measured(pool_id: m.poolID, from: m.from.iso8601, to: m.to.iso8601, sessions: m.sessions, busiest_hour_sessions: m.hours.max() ?? 0,
                     mean_holding_seconds: m.meanHoldingSeconds, simulated_holding_seconds: simulatedHoldingSeconds, call_share: m.callShare)
        }
        let document = Document(recommended_erlang_b: recommended, smallest_meeting_target: smallestMeetingTarget, target_error: targetError,
                                measured: replayed, rows: rows)
        return String(decoding: (try? encoder.encode(document)) ?? Data(), as: UTF8.self)
    }

    public var csv: String {
        (["pool_size,misattribution,exhaustion,busiest_hour_exhaustion,erlang_b,collision_rate,true_collision_rate,late_rate,calls,sessions"] + rows.map { row in
            [String(row.poolSize), "\(row.misattribution)", "\(row.exhaustionRate)", "\(row.busiestHourExhaustionRate)",
             "\(row.predictedExhaustion)", "\(row.collisionRate)", "\(row.trueCollisionRate)", "\(row.lateRate)", String(row.calls),
             String(row.sessions)].joined(separator: ",")
        }).joined(separator: "\n")
    }

    static func percent(_ p: Double) -> String { String(format: "%.2f%%", p * 100) }
    static func minutes(_ seconds: Double) -> String { String(format: "%.1f min", seconds / 60) }
}
