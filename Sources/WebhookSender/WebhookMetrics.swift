import Metrics

/// Created once per endpoint; one dimension, the endpoint's id. The outbox metrics of its cursor
/// (`calltrackd_outbox_depth{destination="webhook:<id>"}`, `calltrackd_outbox_failed` = dead letters waiting)
/// come from its `DestinationDelivery`.
struct WebhookMetrics: Sendable {
    let delivered: Counter
    let failedAttempts: Counter
    let deadLetters: Counter
    /// Entries now between a failed attempt and their next one.
    let retrying: Gauge
    let attemptSeconds: Timer

    init(endpoint: String) {
        let labels = [("endpoint", endpoint)]
        delivered = Counter(label: "calltrackd_webhook_deliveries_total", dimensions: labels)
        failedAttempts = Counter(label: "calltrackd_webhook_failed_attempts_total", dimensions: labels)
        deadLetters = Counter(label: "calltrackd_webhook_dead_letters_total", dimensions: labels)
        retrying = Gauge(label: "calltrackd_webhook_retrying_entries", dimensions: labels)
        attemptSeconds = Timer(label: "calltrackd_webhook_attempt_seconds", dimensions: labels)
    }
}
