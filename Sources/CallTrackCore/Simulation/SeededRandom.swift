#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A seeded, deterministic random number generator (SplitMix64), for the simulator and the property tests:
/// the same seed gives the same sequence on every machine and every run, so a run (or a failure printed
/// with its seed) can be replayed exactly.
///
/// ```swift
/// var rng = SeededRandom(seed: 42)
/// let steps = Int.random(in: 1...10, using: &rng)
/// ```
public struct SeededRandom: RandomNumberGenerator, Sendable {
    public let seed: UInt64
    private var state: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        self.state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        Double.random(in: 0..<1, using: &self) < p
    }

    /// One element of a non-empty collection.
    public mutating func pick<C: Collection>(_ items: C) -> C.Element {
        precondition(!items.isEmpty, "SeededRandom.pick needs a non-empty collection")
        let offset = Int.random(in: 0..<items.count, using: &self)
        return items[items.index(items.startIndex, offsetBy: offset)]
    }

    /// A draw from the log-normal distribution with this median and spread (σ of the logarithm).
    public mutating func logNormal(median: Double, spread: Double) -> Double {
        median * exp(spread * normal())
    }

    /// A standard normal draw (Box–Muller).
    public mutating func normal() -> Double {
        let u = Double.random(in: Double.ulpOfOne..<1, using: &self), v = Double.random(in: 0..<1, using: &self)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }

    /// A Poisson draw with mean `mean` (Knuth's method below 30, a rounded normal above).
    public mutating func poisson(mean: Double) -> Int {
        guard mean > 0 else { return 0 }
        if mean >= 30 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
        let limit = exp(-mean)
        var product = Double.random(in: 0..<1, using: &self), count = 0
        while product > limit {
            count += 1
            product *= Double.random(in: 0..<1, using: &self)
        }
        return count
    }
}
