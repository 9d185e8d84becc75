import AGI

/// What the FastAGI server asks for each session: the channel variables to set.
public protocol AGIRouter: Sendable {
    /// The answer for a session whose `agi_*` block is `environment`.
    func answer(_ environment: AGIEnvironment) async -> AGIAnswer
    /// The answer when `answer` did not come within the deadline (the site's default route).
    func fallback(_ environment: AGIEnvironment) -> AGIAnswer
    /// `answer` never reached Asterisk in full (hangup, timeout, deadline passed): undo what it held.
    func abandoned(_ answer: AGIAnswer)
    /// The answer when it needs no waiting (no lookup to await): given on the event loop at once,
    /// without a task. Nil: the server awaits `answer` under the deadline.
    func immediateAnswer(_ environment: AGIEnvironment) -> AGIAnswer?
}

extension AGIRouter {
    public func immediateAnswer(_ environment: AGIEnvironment) -> AGIAnswer? { nil }
}

/// Channel variables to set, in order, and the call they are for.
public struct AGIAnswer: Sendable, Equatable {
    public var variables: [Variable]
    /// The call id the answer holds resources under (a dealer's line), if any.
    public var call: String?
    /// True for the deadline's fallback.
    public var isFallback: Bool

    public struct Variable: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(variables: [Variable], call: String?, isFallback: Bool = false) {
        self.variables = variables
        self.call = call
        self.isFallback = isFallback
    }
}
