import CallTrackCore
import Foundation

/// `calltrackd pool-size`: how many numbers a pool needs for an offered load, by Erlang B, with the
/// exhaustion at that size and one number fewer, so the person buying numbers sees the step.
public struct PoolSizeAnswer: Encodable, Sendable, Equatable {
    public let pool_size: Int
    public let load_erlangs: Double
    public let target: Double
    /// The chance that a visit finds the pool exhausted (and gets the default number) at `pool_size`.
    public let exhaustion: Double
    /// The same with one number fewer: above the target.
    public let exhaustion_one_fewer: Double

    public init(load: Double, target: Double) {
        pool_size = ErlangB.servers(load: load, target: target)
        load_erlangs = load
        self.target = target
        exhaustion = ErlangB.blocking(load: load, servers: pool_size)
        exhaustion_one_fewer = pool_size > 0 ? ErlangB.blocking(load: load, servers: pool_size - 1) : 1
    }

    /// One sentence a person reads first, then the figures.
    public var text: String {
        """
        A pool offered \(Self.number(load_erlangs)) erlangs needs \(pool_size) numbers for exhaustion under \(Self.percent(target)) (Erlang B).
          \(pool_size) numbers: \(Self.percent(exhaustion)) of visits find the pool full
          \(max(0, pool_size - 1)) numbers: \(Self.percent(exhaustion_one_fewer))
        """
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    static func percent(_ p: Double) -> String { String(format: "%.3g%%", p * 100) }
    static func number(_ x: Double) -> String { x == x.rounded() ? String(Int(x)) : String(format: "%.3g", x) }
}
