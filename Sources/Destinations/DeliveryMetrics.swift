import Metrics

/// Created once per destination; dimensions fixed (the destination's name), no per-lead labels.
struct DeliveryMetrics: Sendable {
    let depth: Gauge
    let oldestAge: Gauge
    let failedWaiting: Gauge
    let delivered: Counter
    /// Visitor merges travel in the same outbox; counted apart, so the lead rate is the lead rate.
    let mergesDelivered: Counter
    let setAside: Counter
    let retries: Counter
    let up: Gauge
    let batchSeconds: Timer

    init(destination: String, topic: String) {
        let outbox = [("topic", topic), ("destination", destination)]
        let labels = [("destination", destination)]
        depth = Gauge(label: "calltrackd_outbox_depth", dimensions: outbox)
        oldestAge = Gauge(label: "calltrackd_outbox_oldest_age_seconds", dimensions: outbox)
        failedWaiting = Gauge(label: "calltrackd_outbox_failed", dimensions: outbox)
        delivered = Counter(label: "calltrackd_leads_delivered_total", dimensions: labels)
        mergesDelivered = Counter(label: "calltrackd_visitor_merges_delivered_total", dimensions: labels)
        setAside = Counter(label: "calltrackd_leads_failed_total", dimensions: labels)
        retries = Counter(label: "calltrackd_lead_delivery_retries_total", dimensions: labels)
        up = Gauge(label: "calltrackd_destination_up", dimensions: labels)
        batchSeconds = Timer(label: "calltrackd_lead_batch_seconds", dimensions: labels)
    }
}
