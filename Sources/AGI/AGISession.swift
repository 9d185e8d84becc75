/// One FastAGI session from calltrackd's side, as a state machine: fed what happens, it returns
/// what to do; no I/O, no clock (timers are the adapter's, fed back as inputs).
///
/// ```swift
/// var session = AGISession()
/// session.lineReceived("agi_network: yes")       // .none
/// session.lineReceived("agi_uniqueid: 1733.42")  // .none
/// session.lineReceived("")                       // .decide(environment)
/// session.decided([("CT_DEALER", "north"), ("CT_DIAL", "PJSIP/north")])  // .send("SET VARIABLE CT_DEALER \"north\"\n")
/// session.lineReceived("200 result=1")           // .send("SET VARIABLE CT_DIAL \"PJSIP/north\"\n")
/// session.lineReceived("200 result=1")           // .close(.answered)
/// ```
/// Replies: `200 result=…` moves on; `510`/`520` (the command was refused; `520-` opens a
/// multi-line usage text ending in `520 …`) are counted and the next command follows; `HANGUP` or
/// `511` (dead channel) end the session. Any other line where a reply must be is `.malformed`.
public struct AGISession: Sendable {
    public struct Limits: Sendable, Equatable {
        /// `agi_*` lines at most before the blank line (a real Asterisk sends about 25 plus arguments).
        public var maxHeadLines: Int
        public init(maxHeadLines: Int = 256) { self.maxHeadLines = maxHeadLines }
    }

    public enum Action: Sendable, Equatable {
        case none
        /// The head is complete: decide, then call `decided(_:)` (or `decided` with the default route).
        case decide(AGIEnvironment)
        /// Write this command line.
        case send(String)
        /// Close the connection; the session ended this way.
        case close(Outcome)
    }

    /// How a session ended, for metrics and logs.
    public enum Outcome: String, Sendable, Equatable, CaseIterable {
        /// Every variable was set.
        case answered
        /// Every command was sent, but Asterisk refused some (510/520).
        case refused
        /// The channel hung up (or was dead) before every variable was set.
        case hungUp = "hung_up"
        /// The peer sent no blank line in time.
        case headTimeout = "head_timeout"
        /// Asterisk did not answer a command in time.
        case replyTimeout = "reply_timeout"
        /// A line over the length cap or too many head lines.
        case tooLong = "too_long"
        /// Bytes that are not the AGI protocol.
        case malformed
        /// The peer closed the connection before the session ended.
        case peerClosed = "peer_closed"
    }

    enum State: Sendable {
        case head(AGIEnvironment)
        case deciding
        case sending(commands: [String], next: Int, inUsage: Bool)
        case done
    }

    let limits: Limits
    var state: State = .head(AGIEnvironment())
    /// Commands Asterisk refused (510/520) in this session.
    public private(set) var refused = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var isDone: Bool { if case .done = state { true } else { false } }
    /// True until the head's blank line has come.
    public var isReadingHead: Bool { if case .head = state { true } else { false } }

    public mutating func lineReceived(_ line: String) -> Action {
        switch state {
        case .head(var environment):
            if line.isEmpty {
                guard !environment.fields.isEmpty else { return finish(.malformed) }
                state = .deciding
                return .decide(environment)
            }
            if line == "HANGUP" { return finish(.hungUp) }
            guard line.hasPrefix("agi_"), let colon = line.firstIndex(of: ":") else { return finish(.malformed) }
            guard environment.fields.count < limits.maxHeadLines else { return finish(.tooLong) }
            var value = line[line.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
            environment.append(key: String(line[..<colon]), value: String(value))
            state = .head(environment)
            return .none
        case .deciding:
            // Asterisk sends nothing while it waits for a command, except a hangup.
            return line == "HANGUP" ? finish(.hungUp) : finish(.malformed)
        case .sending(let commands, let next, let inUsage):
            if inUsage {
                // "520-Invalid command syntax.  Proper usage follows:" … "520 End of proper usage."
                if line.hasPrefix("520 ") { return sendNext(commands, next) }
                return .none
            }
            if line.hasPrefix("200") { return sendNext(commands, next) }
            if line == "HANGUP" || line.hasPrefix("511") { return finish(.hungUp) }
            if line.hasPrefix("510") || line.hasPrefix("520 ") {
                refused += 1
                return sendNext(commands, next)
            }
            if line.hasPrefix("520-") {
                refused += 1
                state = .sending(commands: commands, next: next, inUsage: true)
                return .none
            }
            return finish(.malformed)
        case .done:
            return .none
        }
    }

    /// The decision's channel variables, in the order to set them.
    public mutating func decided(_ variables: [(name: String, value: String)]) -> Action {
        guard case .deciding = state else { return .none }
        let commands = variables.map { Self.setVariable($0.name, $0.value) }
        return sendNext(commands, 0)
    }

    public mutating func lineTooLong() -> Action { isDone ? .none : finish(.tooLong) }

    /// The head timer fired (set on connect).
    public mutating func headTimerFired() -> Action { isReadingHead ? finish(.headTimeout) : .none }

    /// The reply timer fired (set when a command is sent).
    public mutating func replyTimerFired() -> Action {
        if case .sending = state { return finish(.replyTimeout) }
        return .none
    }

    public mutating func peerClosed() -> Action { isDone ? .none : finish(.peerClosed) }

    private mutating func sendNext(_ commands: [String], _ next: Int) -> Action {
        guard next < commands.count else { return finish(refused > 0 ? .refused : .answered) }
        state = .sending(commands: commands, next: next + 1, inUsage: false)
        return .send(commands[next])
    }

    private mutating func finish(_ outcome: Outcome) -> Action {
        state = .done
        return .close(outcome)
    }

    /// `SET VARIABLE NAME "value"\n`, the value quoted as res_agi.c `parse_args` reads it: `"` and `\`
    /// escaped with `\`; line breaks and other control characters, which would end the command, dropped.
    public static func setVariable(_ name: String, _ value: String) -> String {
        var quoted = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"", "\\": quoted += "\\" + String(scalar)
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: continue
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return "SET VARIABLE \(name) \"\(quoted)\"\n"
    }
}
