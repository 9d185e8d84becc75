/// Whether changes reach a destination; a change of health is logged once.
public enum DeliveryHealth: Sendable, Hashable {
    case starting
    case delivering
    /// The destination is down, slow or refusing; changes wait in the outbox. `reason` says what to fix.
    case waiting(kind: String, reason: String)
}

/// What a destination's delivery has done since it started, and whether the destination answers; read by tests
/// and the metrics.
public struct DeliveryProgress: Sendable, Hashable {
    /// Every outbox entry up to this id is delivered to the destination or set aside.
    public var doneThrough: Int64 = 0
    public var delivered: Int = 0
    public var failed: Int = 0
    public var health: DeliveryHealth = .starting
}
