import CallTrackCore
import Metrics

/// The API's counters, created once with fixed dimensions (never per session or per number).
public struct APIMetrics: Sendable {
    private let leases: [String: Counter]
    private let fallbacks: [Assignment.FallbackReason: Counter]
    let touches = Counter(label: "calltrackd_leases_touched_total")
    let storeFailures = Counter(label: "calltrackd_store_write_failures_total")
    let snippetErrors = Counter(label: "calltrackd_snippet_errors_total")
    let rejectedOrigins = Counter(label: "calltrackd_rejected_origins_total")
    /// Values the snippet sent that are not what they claim (a `ga_session_id` that is not a number): dropped, the
    /// visit served as usual.
    let droppedGASessionIDs = Counter(label: "calltrackd_snippet_bad_values_total", dimensions: [("field", "ga_session_id")])

    public init() {
        leases = [
            "new": Counter(label: "calltrackd_leases_total", dimensions: [("outcome", "new")]),
            "sticky": Counter(label: "calltrackd_leases_total", dimensions: [("outcome", "sticky")]),
            "shared": Counter(label: "calltrackd_leases_total", dimensions: [("outcome", "shared")]),
        ]
        var fallbacks: [Assignment.FallbackReason: Counter] = [:]
        for reason in Assignment.FallbackReason.allCases {
            fallbacks[reason] = Counter(label: "calltrackd_fallback_numbers_total", dimensions: [("reason", reason.rawValue)])
        }
        self.fallbacks = fallbacks
    }

    func record(_ assignment: Assignment) {
        switch assignment.outcome {
        case .leased(_, let sticky): leases[sticky ? "sticky" : "new"]?.increment()
        case .shared: leases["shared"]?.increment()
        case .existing: touches.increment()
        case .exhausted, nil: break
        }
        if let reason = assignment.reason { fallbacks[reason]?.increment() }
    }
}
