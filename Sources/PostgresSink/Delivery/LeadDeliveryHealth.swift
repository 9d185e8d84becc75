/// Whether leads reach PostgreSQL; a change of health is logged once.
public enum LeadDeliveryHealth: Sendable, Hashable {
    case starting
    case delivering
    /// PostgreSQL is down, slow or refusing; leads wait in the outbox. `reason` says what to fix.
    case waiting(kind: PostgresError.Kind, reason: String)
}

/// What the delivery has done so far, and whether PostgreSQL is answering; read by tests and the metrics.
public struct LeadDeliveryProgress: Sendable, Hashable {
    /// Every outbox entry up to this id is delivered or set aside.
    public var doneThrough: Int64 = 0
    public var delivered: Int = 0
    public var failed: Int = 0
    public var health: LeadDeliveryHealth = .starting
}
