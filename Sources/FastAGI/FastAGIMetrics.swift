import AGI
import Metrics

/// The FastAGI server's metrics, created once with fixed dimensions.
struct FastAGIMetrics: Sendable {
    let sessions: [AGISession.Outcome: Counter] = Dictionary(uniqueKeysWithValues: AGISession.Outcome.allCases.map {
        ($0, Counter(label: "calltrackd_agi_sessions_total", dimensions: [("outcome", $0.rawValue)]))
    })
    let active = Meter(label: "calltrackd_agi_sessions_active")
    /// Sessions answered with the default route because the decision missed the deadline.
    let deadlineMissed = Counter(label: "calltrackd_agi_deadline_missed_total")
    /// Commands Asterisk refused (510/520).
    let refusedCommands = Counter(label: "calltrackd_agi_refused_commands_total")
    /// Lines that were not UTF-8 (read with U+FFFD).
    let invalidUTF8 = Counter(label: "calltrackd_agi_invalid_utf8_total")
    /// Bytes received and left unread when a session was cut off (garbage, over-long lines).
    let discardedBytes = Counter(label: "calltrackd_agi_discarded_bytes_total")
    /// Time from the head's blank line to the decision.
    let decisionSeconds = Timer(label: "calltrackd_agi_decision_seconds")
}
