import AMI
import Metrics

/// The client's metrics, created once with fixed dimensions.
struct AMIClientMetrics: Sendable {
    /// 1 while logged in, else 0.
    let connected = Gauge(label: "calltrackd_ami_connected")
    let reconnects = Counter(label: "calltrackd_ami_reconnects_total")
    let loginFailures = Counter(label: "calltrackd_ami_login_failures_total")
    let pingTimeouts = Counter(label: "calltrackd_ami_ping_timeouts_total")
    /// Messages decoded (events/s is its rate).
    let messages = Counter(label: "calltrackd_ami_messages_total")
    /// Events dropped unparsed by the filter.
    let skipped = Counter(label: "calltrackd_ami_events_skipped_total")
    /// Bytes refused by the decoder (garbage, over-long lines or messages), each skipped to the next message.
    let malformed = Counter(label: "calltrackd_ami_malformed_total")
    /// Messages whose bytes are not UTF-8, kept as sent.
    let invalidUTF8 = Counter(label: "calltrackd_ami_invalid_utf8_total")
    let bytes = Counter(label: "calltrackd_ami_bytes_total")
    let callsInProgress = Gauge(label: "calltrackd_ami_calls_in_progress")
    let callsByDisposition: [CallDisposition: Counter] = Dictionary(uniqueKeysWithValues: CallDisposition.allCases.map {
        ($0, Counter(label: "calltrackd_ami_calls_total", dimensions: [("disposition", $0.rawValue)]))
    })
}
