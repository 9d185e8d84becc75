import CallTrackCore
import Destinations
import Logging
import Synchronization
import Webhooks

/// A webhook endpoint as a lead destination: its own cursor (`webhook:<id>`), its own loop, its own connections,
/// so a dead or slow endpoint never delays PostgreSQL or another endpoint.
///
/// ```
/// batch (≤ 200 changes) ─ plan ─> lanes, one per lead ──> up to `concurrency` lanes at once, a lane in order:
///     POST (signed at send time) ─ 2xx ─> next change of the lane
///          └ failure ─> EntryAttempts: wait (exponential, jitter, on the injected clock) and POST again,
///                       or after N consecutive failures: dead letter (set aside for this endpoint), next change
/// batch done when every lane is: the cursor moves past it; dead letters are recorded with it, atomically
/// ```
/// At least once: a batch cut short by a stop is sent again after the restart, whole.
public struct WebhookDestination: LeadDestination {
    public let endpoint: WebhookEndpoint
    private let client: WebhookHTTPClient
    private let clock: any WallClock
    private let jitter: @Sendable () -> Double
    private let leadJSON: @Sendable (Lead) -> [UInt8]
    private let userAgent: String
    private let metrics: WebhookMetrics
    private let retrying: Retrying
    private let logger: Logger

    /// `jitter` draws r ∈ [0, 1] for each retry's delay (tests pass a constant); `leadJSON` encodes a lead as the
    /// admin API shows it.
    public init(
        endpoint: WebhookEndpoint, client: WebhookHTTPClient, clock: any WallClock,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) },
        leadJSON: @escaping @Sendable (Lead) -> [UInt8], userAgent: String = "calltrackd", logger: Logger
    ) {
        self.endpoint = endpoint
        self.client = client
        self.clock = clock
        self.jitter = jitter
        self.leadJSON = leadJSON
        self.userAgent = userAgent
        self.metrics = WebhookMetrics(endpoint: endpoint.id)
        self.retrying = Retrying()
        var logger = logger
        logger[metadataKey: "webhook.endpoint"] = "\(endpoint.id)"
        self.logger = logger
    }

    public var name: String { endpoint.destinationName }

    public var maxBatchSize: Int { 200 }

    public func prepare() async throws(DeliveryFailure) {}

    public func encode(_ changes: [LeadChange]) -> WebhookBatch {
        WebhookBatch.plan(changes, for: endpoint, leadJSON: leadJSON)
    }

    public func deliver(_ batch: WebhookBatch) async -> DeliveryResult {
        let lanes = batch.lanes
        let width = max(1, endpoint.concurrency)
        let outcome = await withTaskGroup(of: LaneOutcome.self, returning: LaneOutcome.self) { group in
            var next = 0
            while next < min(width, lanes.count) {
                let lane = lanes[next]
                group.addTask { await self.send(lane) }
                next += 1
            }
            var total = LaneOutcome()
            for await done in group {
                total.deadLetters += done.deadLetters
                total.interrupted = total.interrupted || done.interrupted
                if next < lanes.count, !total.interrupted {
                    let lane = lanes[next]
                    group.addTask { await self.send(lane) }
                    next += 1
                }
            }
            total.interrupted = total.interrupted || next < lanes.count
            return total
        }
        if outcome.interrupted {
            // Stopping: the cursor stays before the batch, which goes again (whole) after the restart.
            return .retryLater(DeliveryFailure(kind: "stopping", "the daemon stopped during a batch; it is sent again at the next start"))
        }
        return outcome.deadLetters.isEmpty ? .delivered : .rejected(outcome.deadLetters.sorted { $0.id < $1.id })
    }

    // MARK: - One lead's lane

    private struct LaneOutcome: Sendable {
        var deadLetters: [(id: Int64, error: String)] = []
        /// Cancelled before the lane was done.
        var interrupted = false
    }

    private func send(_ lane: [WebhookRequest]) async -> LaneOutcome {
        var outcome = LaneOutcome()
        for request in lane {
            switch await send(request) {
            case .delivered: continue
            case .deadLetter(let reason): outcome.deadLetters.append((request.entryID, reason))
            case .cancelled:
                outcome.interrupted = true
                return outcome
            }
        }
        return outcome
    }

    private enum RequestOutcome {
        case delivered
        case deadLetter(String)
        case cancelled
    }

    /// Posts one change until the endpoint takes it or the entry becomes a dead letter.
    private func send(_ request: WebhookRequest) async -> RequestOutcome {
        var attempts = EntryAttempts(deadLetterAfter: endpoint.deadLetterAfter, schedule: endpoint.retry)
        defer { if attempts.failures > 0 { metrics.retrying.record(retrying.add(-1)) } }
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let outcome = await client.post(request.body, headers: headers(for: request))
            // Stopping: the attempt was cut short, which says nothing about the endpoint.
            if Task.isCancelled { return .cancelled }
            metrics.attemptSeconds.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
            let reason: String
            switch outcome {
            case .accepted:
                metrics.delivered.increment()
                return .delivered
            case .failed(let why):
                reason = why
            }
            metrics.failedAttempts.increment()
            if attempts.failures == 0 { metrics.retrying.record(retrying.add(1)) }
            switch attempts.failed(jitter: jitter()) {
            case .retry(let delay):
                logger.debug("webhook attempt failed; retrying", metadata: [
                    "outbox.id": "\(request.entryID)", "error": "\(reason)", "webhook.failures": "\(attempts.failures)", "retry.in": "\(delay)",
                ])
                if attempts.failures == 1 {
                    logger.info("webhook attempt failed; retrying with backoff", metadata: [
                        "outbox.id": "\(request.entryID)", "error": "\(reason)", "retry.in": "\(delay)",
                    ])
                }
                do { try await clock.sleep(for: delay) } catch { return .cancelled }
            case .deadLetter(let failures):
                metrics.deadLetters.increment()
                logger.notice("webhook change set aside as a dead letter; `calltrackd webhooks replay` sends it again", metadata: [
                    "outbox.id": "\(request.entryID)", "error": "\(reason)", "webhook.failures": "\(failures)",
                ])
                return .deadLetter("dead letter after \(failures) failed attempts; last: \(reason)")
            }
        }
        return .cancelled
    }

    /// Signed with the time of this attempt: a retry is not refused as stale by a receiver's replay check.
    private func headers(for request: WebhookRequest) -> [(String, String)] {
        let timestamp = clock.now().microsecondsSinceEpoch / 1_000_000
        return [
            ("Content-Type", "application/json"),
            ("User-Agent", userAgent),
            ("X-Calltrackd-Event", WebhookPayload.leadChanged),
            ("X-Calltrackd-Delivery", "\(endpoint.id):\(request.entryID)"),
            (WebhookSignature.timestampHeader, "\(timestamp)"),
            (WebhookSignature.signatureHeader, WebhookSignature.sign(body: request.body, timestamp: timestamp, secret: endpoint.secret)),
        ]
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// How many of the endpoint's entries are between a failed attempt and their next one.
private final class Retrying: Sendable {
    private let count = Atomic<Int>(0)

    /// Adds `delta` and returns the new count.
    func add(_ delta: Int) -> Int {
        count.add(delta, ordering: .relaxed).newValue
    }
}
