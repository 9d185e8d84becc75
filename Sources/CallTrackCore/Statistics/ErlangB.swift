/// The Erlang B formula: the chance that a visit finds every number of a pool leased, for a pool of
/// `servers` numbers offered `load` erlangs (visits per hour × hours each number stays held, cooldown
/// included), with the numbers given out as calls are given lines.
///
/// ```
/// ErlangB.blocking(load: 10, servers: 18)   -> 0.00714   (the published table: 18 lines carry 10 E at 1%)
/// ErlangB.servers(load: 10, target: 0.01)   -> 18
/// ErlangB.servers(load: 10, target: 0.001)  -> 21
/// ```
/// Computed by the recursion B(0) = 1, B(n) = E·B(n−1) / (n + E·B(n−1)), which stays exact where the
/// closed form's powers and factorials overflow (thousands of erlangs).
public enum ErlangB {
    /// The probability that all `servers` are busy, from 0 to 1; 1 for no servers.
    public static func blocking(load: Double, servers: Int) -> Double {
        precondition(load >= 0 && load.isFinite && servers >= 0, "ErlangB.blocking takes a finite load ≥ 0 and servers ≥ 0")
        var b = 1.0
        if servers > 0 {
            for n in 1...servers { b = load * b / (Double(n) + load * b) }
        }
        return b
    }

    /// The smallest pool whose blocking probability is at most `target` (0 < target < 1); 0 for no traffic.
    public static func servers(load: Double, target: Double) -> Int {
        precondition(load >= 0 && load.isFinite, "ErlangB.servers takes a finite load ≥ 0")
        precondition(target > 0 && target < 1, "ErlangB.servers takes a target between 0 and 1")
        guard load > 0 else { return 0 }
        var b = 1.0
        var n = 0
        while b > target {
            n += 1
            b = load * b / (Double(n) + load * b)
        }
        return n
    }

    /// The load a pool carries: arrivals per hour times the mean time a number stays out of the free list
    /// (the lease and its cooldown).
    public static func offeredLoad(arrivalsPerHour: Double, meanHolding: Duration) -> Double {
        let (seconds, attoseconds) = meanHolding.components
        return arrivalsPerHour * (Double(seconds) + Double(attoseconds) / 1e18) / 3600
    }
}
