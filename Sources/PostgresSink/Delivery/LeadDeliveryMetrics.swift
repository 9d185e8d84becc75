import Metrics

/// Created once per delivery; dimensions fixed, no per-lead labels.
struct LeadDeliveryMetrics: Sendable {
    let depth = Gauge(label: "calltrack_outbox_depth", dimensions: [("topic", "lead")])
    let oldestAge = Gauge(label: "calltrack_outbox_oldest_age_seconds", dimensions: [("topic", "lead")])
    let failedWaiting = Gauge(label: "calltrack_outbox_failed", dimensions: [("topic", "lead")])
    let delivered = Counter(label: "calltrack_leads_delivered_total")
    let setAside = Counter(label: "calltrack_leads_failed_total")
    let retries = Counter(label: "calltrack_lead_delivery_retries_total")
    let postgresUp = Gauge(label: "calltrack_postgres_up")
    let batchSeconds = Timer(label: "calltrack_lead_batch_seconds")
}
