import CallTrackCore

/// Somewhere lead changes go: PostgreSQL, and next webhooks and analytics. A `DestinationDelivery` reads the
/// outbox through the destination's own cursor and hands it batches of changes, in outbox order; the
/// destination only says what became of each batch. Retrying, backoff, setting entries aside, metrics and
/// pruning are the loop's, so a destination is its encoding and its I/O and nothing else.
///
/// ```swift
/// struct Webhook: LeadDestination {
///     let name = "webhook-crm"
///     func prepare() async throws(DeliveryFailure) {}
///     func deliver(_ batch: [LeadChange]) async -> DeliveryResult { … }
/// }
/// ```
public protocol LeadDestination: Sendable {
    /// What the destination sends a batch as, built by `encode` while the previous batch is being delivered.
    associatedtype Batch: Sendable = [LeadChange]

    /// Unique among the destinations: names its cursor in the state database and its metrics. Changing it makes
    /// a new destination (which starts at the newest entry).
    var name: String { get }

    /// Most changes per batch it accepts.
    var maxBatchSize: Int { get }

    /// Makes the destination ready before the first batch (e.g. migrates a schema); a failure is retried with backoff.
    func prepare() async throws(DeliveryFailure)

    /// Turns changes into what `deliver` sends; runs ahead, overlapping the previous batch's delivery.
    func encode(_ changes: [LeadChange]) -> Batch

    /// Sends a batch of changes, in order. Must be idempotent: after a crash or a retry a batch may come again.
    func deliver(_ batch: Batch) async -> DeliveryResult
}

extension LeadDestination {
    public var maxBatchSize: Int { 1000 }
}

extension LeadDestination where Batch == [LeadChange] {
    public func encode(_ changes: [LeadChange]) -> [LeadChange] { changes }
}

/// A change read from the outbox as it stands when it is delivered: a lead changed twice while a destination
/// was away travels once, with its newest values.
public enum LeadChange: Sendable, Hashable {
    case lead(Lead, entry: OutboxEntry)
    /// A visitor merged into another; delivered in order with the leads so a destination sees one person.
    case merge(VisitorMerge, entry: OutboxEntry)
    /// A person was forgotten: their leads came before it as new revisions; the destination forgets what else it
    /// keeps of them (PostgreSQL: their visitor merges).
    case erasure(ErasureRecord, entry: OutboxEntry)

    public var entry: OutboxEntry {
        switch self {
        case .lead(_, let entry), .merge(_, let entry), .erasure(_, let entry): entry
        }
    }

    public var erasure: ErasureRecord? {
        if case .erasure(let erasure, _) = self { erasure } else { nil }
    }

    public var lead: Lead? {
        if case .lead(let lead, _) = self { lead } else { nil }
    }

    public var merge: VisitorMerge? {
        if case .merge(let merge, _) = self { merge } else { nil }
    }
}

/// What became of a batch.
public enum DeliveryResult: Sendable {
    /// Every change arrived.
    case delivered
    /// Nothing is known to have arrived (the destination is down, slow or refusing): the loop waits and sends the
    /// batch again.
    case retryLater(DeliveryFailure)
    /// The destination refused these entries for their values (retrying cannot help); every other change of the
    /// batch arrived. The loop sets them aside, with their errors, for this destination only.
    case rejected([(id: Int64, error: String)])
}

/// Why a destination could not take a batch: `kind` groups failures (a change of kind is logged once), the
/// description says what to fix and holds no lead data.
public struct DeliveryFailure: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: String
    public var description: String

    public init(kind: String, _ description: String) {
        self.kind = kind
        self.description = description
    }
}
