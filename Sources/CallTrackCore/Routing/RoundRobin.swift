/// Smooth weighted round robin, as nginx balances upstream peers (`ngx_http_upstream_get_peer`):
/// every pick adds each candidate's weight to its running score, takes the highest score, and
/// subtracts the total weight from the winner. Over any run of picks among the same candidates each
/// gets its weight's share, spread out rather than in bursts: weights 5, 1, 1 give a a b a c a a.
///
/// Scores are kept per dealer (by its index in the `DealerBook`), so a dealer that is closed or full
/// for a while keeps its place, as nginx keeps a down peer's `current_weight`.
public struct RoundRobin: Hashable, Sendable {
    var scores: [Int]

    public init(dealers: Int) { scores = Array(repeating: 0, count: dealers) }

    /// Picks one of `candidates` (dealer indices, in book order) by their `weights`; ties go to the earliest.
    mutating func pick(_ candidates: [Int], weights: [Int]) -> Int {
        if scores.count < (candidates.max() ?? 0) + 1 { scores += Array(repeating: 0, count: (candidates.max() ?? 0) + 1 - scores.count) }
        var total = 0
        var best = candidates[0]
        var bestScore = Int.min
        for (candidate, weight) in zip(candidates, weights) {
            scores[candidate] += weight
            total += weight
            if scores[candidate] > bestScore {
                best = candidate
                bestScore = scores[candidate]
            }
        }
        scores[best] -= total
        return best
    }

    /// The scores for a changed book: `previous[j]` is the old index of new dealer `j` (nil for a new dealer, which
    /// starts at 0), so each dealer keeps its place in the rotation.
    public func remapped(previous: [Int?]) -> RoundRobin {
        var next = RoundRobin(dealers: previous.count)
        for (index, old) in previous.enumerated() { next.scores[index] = old.map(score(of:)) ?? 0 }
        return next
    }

    /// The running score of a dealer (for tests and the reason text).
    public func score(of index: Int) -> Int { index < scores.count ? scores[index] : 0 }
}
