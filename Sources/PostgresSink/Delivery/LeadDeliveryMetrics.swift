import Metrics

/// Created once per delivery; dimensions fixed, no per-lead labels.
struct LeadDeliveryMetrics: Sendable {
    let depth = Gauge(label: "calltrackd_outbox_depth", dimensions: [("topic", "lead")])
    let oldestAge = Gauge(label: "calltrackd_outbox_oldest_age_seconds", dimensions: [("topic", "lead")])
    let failedWaiting = Gauge(label: "calltrackd_outbox_failed", dimensions: [("topic", "lead")])
    let delivered = Counter(label: "calltrackd_leads_delivered_total")
    /// Visitor merges travel in the same outbox; counted apart, so the lead rate is the lead rate.
    let mergesDelivered = Counter(label: "calltrackd_visitor_merges_delivered_total")
    let setAside = Counter(label: "calltrackd_leads_failed_total")
    let retries = Counter(label: "calltrackd_lead_delivery_retries_total")
    let postgresUp = Gauge(label: "calltrackd_postgres_up")
    let batchSeconds = Timer(label: "calltrackd_lead_batch_seconds")
}
