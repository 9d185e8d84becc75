import AMI

/// What happened to the connection, for logs, status pages and tests.
public enum AMIConnectionEvent: Sendable, Equatable {
    case connecting(attempt: Int)
    case connected(banner: String)
    case loggedIn
    /// The listing after login is complete; `closed` calls had ended while we were away.
    case resynced(closed: Int)
    case closed(AMIClientStateMachine.CloseReason)
    /// The TCP connection ended or could not be opened.
    case disconnected(reason: String)
    case reconnecting(after: Duration)
}
