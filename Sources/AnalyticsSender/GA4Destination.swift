import Analytics
import CallTrackCore
import DestinationHTTP
import Destinations
import Logging

/// A GA4 property as a lead destination: its own cursor (`ga4:<id>`), its own loop, its own connections, so GA4
/// being unreachable delays neither PostgreSQL nor a webhook.
///
/// ```
/// batch (≤ 200 changes) ─> the newest lead of each call of the property's sites
///   ─> conversions earned (GA4Conversions) minus those the ConversionLog has for this property
///   ─> per conversion: the visit's ids ─> GA4Request: skip (no _ga, too old: recorded, counted, logged)
///                                                     or POST ─ 2xx ─> recorded as sent
///                                                              └ failure ─> EntryAttempts: wait and retry, or
///                                                                after N failures: the call's entries set aside
/// ```
/// At least once, each event at most once per property in the normal run: a conversion is recorded right after
/// GA4 took it, so only a crash between the two sends it again (GA4 drops a second `purchase` with the same
/// `transaction_id`). One request at a time: GA4 takes them in milliseconds, and a failure is almost always the
/// endpoint's, which every request would meet.
public struct GA4Destination: LeadDestination {
    public let property: GA4Property
    private let client: DestinationHTTPClient
    private let log: any ConversionLog
    private let clock: any WallClock
    private let jitter: @Sendable () -> Double
    private let userAgent: String
    private let metrics: GA4Metrics
    private let logger: Logger

    /// `client` posts to `property.collectURL`; `log` reads the visits' ids and remembers what was sent;
    /// `jitter` draws r ∈ [0, 1] for each retry's delay (tests pass a constant).
    public init(
        property: GA4Property, client: DestinationHTTPClient, log: any ConversionLog, clock: any WallClock,
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0...1) }, userAgent: String = "calltrackd", logger: Logger
    ) {
        self.property = property
        self.client = client
        self.log = log
        self.clock = clock
        self.jitter = jitter
        self.userAgent = userAgent
        self.metrics = GA4Metrics(property: property.id)
        var logger = logger
        logger[metadataKey: "ga4.property"] = "\(property.id)"
        self.logger = logger
    }

    /// The client for `property`: its collect URL (with the secret), timeout, one connection.
    public static func client(for property: GA4Property) -> DestinationHTTPClient {
        DestinationHTTPClient(url: property.collectURL, timeout: property.timeout, concurrency: 1, trustRoots: nil)
    }

    public var name: String { property.destinationName }

    public var maxBatchSize: Int { 200 }

    public func prepare() async throws(DeliveryFailure) {}

    public func deliver(_ batch: [LeadChange]) async -> DeliveryResult {
        // A call's changes in a batch all carry its newest lead: it is looked at once, its entries kept together.
        var order: [String] = []
        var newest: [String: Lead] = [:]
        var entries: [String: [Int64]] = [:]
        for change in batch {
            guard let lead = change.lead, property.sites.contains(lead.siteID) else { continue }
            if newest[lead.callID] == nil { order.append(lead.callID) }
            newest[lead.callID] = lead
            entries[lead.callID, default: []].append(change.entry.id)
        }
        let earned = newest.compactMapValues { lead -> [ConversionKind]? in
            let kinds = GA4Conversions.earned(by: lead, for: property)
            return kinds.isEmpty ? nil : kinds
        }
        guard !earned.isEmpty else { return .delivered }
        let done: Set<String>
        let ids: [SessionID: VisitAnalyticsIDs]
        do throws(StoreUnavailable) {
            done = Set(try await log.conversions(of: name, callIDs: Array(earned.keys)).map { Self.key($0.callID, $0.kind) })
            ids = try await log.analyticsIDs(ofSessions: earned.keys.compactMap { newest[$0]?.match.sessionID })
        } catch {
            return .retryLater(DeliveryFailure(kind: "store", "the state database cannot be read: \(error)"))
        }
        var deadLetters: [(id: Int64, error: String)] = []
        for callID in order {
            guard let kinds = earned[callID], let lead = newest[callID] else { continue }
            for kind in kinds where !done.contains(Self.key(callID, kind)) {
                let visit = lead.match.sessionID.flatMap { ids[$0] }
                switch await convert(kind, of: lead, visit: visit) {
                case .done: continue
                case .deadLetter(let reason):
                    deadLetters += (entries[callID] ?? []).map { ($0, reason) }
                case .cancelled:
                    return .retryLater(DeliveryFailure(kind: "stopping", "the daemon stopped during a batch; it is sent again at the next start"))
                }
                break // a dead letter: the lead's other conversion waits for its next change too
            }
        }
        return deadLetters.isEmpty ? .delivered : .rejected(deadLetters.sorted { $0.id < $1.id })
    }

    // MARK: - One conversion

    private enum Outcome {
        /// Sent, or skipped for good; recorded either way.
        case done
        case deadLetter(String)
        case cancelled
    }

    private static func key(_ callID: String, _ kind: ConversionKind) -> String { "\(kind.rawValue) \(callID)" }

    /// Sends one conversion until GA4 takes it, it must be skipped, or it becomes a dead letter. The request is
    /// built again for every attempt: an event that ages past GA4's backdating limit while GA4 is down is skipped.
    private func convert(_ kind: ConversionKind, of lead: Lead, visit: VisitAnalyticsIDs?) async -> Outcome {
        var attempts = EntryAttempts(deadLetterAfter: property.deadLetterAfter, schedule: property.retry)
        while !Task.isCancelled {
            let body: [UInt8]
            let eventName: String
            switch GA4Request.build(kind, of: lead, ids: visit, property: property, now: clock.now()) {
            case .skip(let reason):
                metrics.skipped[reason]?.increment()
                logger.info("GA4 conversion skipped", metadata: [
                    "call.id": "\(lead.callID)", "ga4.conversion": "\(kind.rawValue)", "ga4.skip_reason": "\(reason.rawValue)",
                ])
                await remember(ConversionRecord(callID: lead.callID, kind: kind, outcome: .skipped, reason: reason.rawValue))
                return .done
            case .send(let bytes, let name):
                body = bytes
                eventName = name
            }
            let started = ContinuousClock.now
            let outcome = await client.post(body, headers: [("Content-Type", "application/json"), ("User-Agent", userAgent)])
            if Task.isCancelled { return .cancelled } // cut short by a stop: says nothing about GA4
            metrics.attemptSeconds.recordNanoseconds(Self.nanoseconds(ContinuousClock.now - started))
            let reason: String
            switch outcome {
            case .accepted:
                metrics.sent[kind]?.increment()
                logger.debug("GA4 event sent", metadata: ["call.id": "\(lead.callID)", "ga4.event": "\(eventName)"])
                await remember(ConversionRecord(callID: lead.callID, kind: kind, outcome: .sent))
                return .done
            case .failed(let why):
                reason = why
            }
            metrics.failedAttempts.increment()
            switch attempts.failed(jitter: jitter()) {
            case .retry(let delay):
                if attempts.failures == 1 {
                    logger.info("GA4 event not taken; retrying with backoff", metadata: [
                        "call.id": "\(lead.callID)", "ga4.event": "\(eventName)", "error": "\(reason)", "retry.in": "\(delay)",
                    ])
                }
                do { try await clock.sleep(for: delay) } catch { return .cancelled }
            case .deadLetter(let failures):
                metrics.deadLetters.increment()
                logger.notice("GA4 event set aside as a dead letter; the lead's next change tries it again", metadata: [
                    "call.id": "\(lead.callID)", "ga4.event": "\(eventName)", "error": "\(reason)", "ga4.failures": "\(failures)",
                ])
                return .deadLetter("GA4 event \(eventName): dead letter after \(failures) failed attempts; last: \(reason)")
            }
        }
        return .cancelled
    }

    /// Records a conversion as done for this property. If the state database cannot take it, it is logged and the
    /// conversion may be sent again after a restart (GA4 counts a repeated `purchase` once, by `transaction_id`).
    private func remember(_ record: ConversionRecord) async {
        do throws(StoreUnavailable) {
            try await log.record([record], by: name, at: clock.now())
        } catch {
            logger.info("GA4 conversion sent but not recorded; it may be sent again", metadata: [
                "call.id": "\(record.callID)", "ga4.conversion": "\(record.kind.rawValue)", "error": "\(error)",
            ])
        }
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
