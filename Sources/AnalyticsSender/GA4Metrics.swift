import Analytics
import CallTrackCore
import Metrics

/// Created once per property; dimensions fixed (the property's id, the conversion kind, the skip reason). The
/// outbox metrics of its cursor (`calltrackd_outbox_depth{destination="ga4:<id>"}`, `calltrackd_outbox_failed` =
/// dead letters waiting) come from its `DestinationDelivery`.
struct GA4Metrics: Sendable {
    let sent: [ConversionKind: Counter]
    let skipped: [GA4Request.SkipReason: Counter]
    let failedAttempts: Counter
    let deadLetters: Counter
    let attemptSeconds: Timer

    init(property: String) {
        let labels = [("property", property)]
        sent = Dictionary(uniqueKeysWithValues: ConversionKind.allCases.map {
            ($0, Counter(label: "calltrackd_ga4_events_sent_total", dimensions: labels + [("kind", $0.rawValue)]))
        })
        skipped = Dictionary(uniqueKeysWithValues: GA4Request.SkipReason.allCases.map {
            ($0, Counter(label: "calltrackd_ga4_events_skipped_total", dimensions: labels + [("reason", $0.rawValue)]))
        })
        failedAttempts = Counter(label: "calltrackd_ga4_failed_attempts_total", dimensions: labels)
        deadLetters = Counter(label: "calltrackd_ga4_dead_letters_total", dimensions: labels)
        attemptSeconds = Timer(label: "calltrackd_ga4_attempt_seconds", dimensions: labels)
    }
}
