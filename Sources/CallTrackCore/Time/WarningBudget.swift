/// How often one kind of warning may reach the log: the first at once, then at most one per
/// `interval`, each saying how many were held back since the last.
///
/// ```
/// budget.admit(at: 0 s)  -> .log(suppressed: 0)
/// budget.admit(at: 1 s)  -> .suppress
/// budget.admit(at: 2 s)  -> .suppress
/// budget.admit(at: 11 s) -> .log(suppressed: 2)
/// ```
/// A flood of bad bytes costs a line per interval, never a line per byte; the counter metric beside
/// it still counts every one.
public struct WarningBudget: Sendable {
    public enum Decision: Sendable, Equatable {
        case log(suppressed: Int)
        case suppress
    }

    public let interval: Duration
    private var lastLogged: Timestamp?
    private var suppressed = 0

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    public mutating func admit(at now: Timestamp) -> Decision {
        if let last = lastLogged, now < last + interval, now >= last {
            suppressed += 1
            return .suppress
        }
        lastLogged = now
        defer { suppressed = 0 }
        return .log(suppressed: suppressed)
    }
}
