/// The AMI session as a state machine: fed what happened, it returns the one thing to do next.
///
/// ```
/// sm.connected()                                   -> .none              (wait for the banner; arm .loginDeadline)
/// sm.bannerReceived("Asterisk Call Manager/9.0.0") -> .send(Login)
/// sm.received(Response: Success, ActionID: ct-1)   -> .loggedIn(resync: CoreShowChannels)
/// sm.received(Event: CoreShowChannelsComplete)     -> .send(Status)
/// sm.received(Event: StatusComplete)               -> .finishResync
/// sm.received(Event: Newchannel)                   -> .deliver(message)
/// sm.timerFired(.ping)                             -> .sendPing(Ping)    (arm .pingDeadline)
/// sm.timerFired(.pingDeadline("ct-5"))             -> .close(.pingTimeout) if no Pong came
/// sm.disconnected()                                -> .reconnect(after: backoff with jitter)
/// ```
/// No I/O and no clock: the adapter runs the actions and owns the timers.
public struct AMIClientStateMachine: Sendable {
    public enum State: Sendable, Equatable {
        case disconnected
        case awaitingBanner
        case awaitingChallenge(actionID: String)
        case awaitingLogin(actionID: String)
        /// Logged in; listing live channels (`CoreShowChannels`, then `Status` for the dialled numbers).
        case resyncing(actionID: String)
        case ready
        case closing(CloseReason)
    }

    public enum CloseReason: Sendable, Equatable, CustomStringConvertible {
        /// Asterisk refused the login; `message` is what it said (`Authentication failed`).
        case loginRejected(message: String)
        case pingTimeout
        /// Connected, but no banner or no answer to the login within the time allowed.
        case loginTimeout
        /// Asterisk said `Goodbye` unasked or announced a shutdown (`Event: Shutdown`).
        case serverClosing
        /// calltrackd is stopping: it said `Logoff` and Asterisk answered `Goodbye`.
        case loggedOff

        public var description: String {
            switch self {
            case .loginRejected(let message): "Asterisk refused the login (\(message))"
            case .pingTimeout: "Asterisk did not answer Ping in time"
            case .loginTimeout: "no banner or login reply in time"
            case .serverClosing: "Asterisk ended the session (Goodbye or Shutdown)"
            case .loggedOff: "calltrackd logged off"
            }
        }
    }

    public enum Action: Sendable, Equatable {
        case none
        case send(AMIAction)
        /// An event for the call assembler.
        case deliver(AMIMessage)
        /// Logged in: reset the backoff, tell the assembler a resync begins, send this listing action, start pinging.
        case loggedIn(resync: AMIAction)
        /// The listing is complete: calls not in it ended while we were away.
        case finishResync
        /// Send this ping and fire `.pingDeadline(id)` after the ping timeout.
        case sendPing(AMIAction)
        case close(CloseReason)
        case reconnect(after: Duration)
    }

    public enum Timer: Sendable, Equatable {
        /// Armed at connect: fires `.close(.loginTimeout)` unless logged in by then.
        case loginDeadline
        case ping
        case pingDeadline(actionID: String)
    }

    public let login: AMILogin
    public let backoff: AMIBackoff
    /// Channel variables asked for in the resync `Status` (the tracking variable, if the dialplan sets one).
    public let resyncVariables: [String]
    public private(set) var state = State.disconnected
    /// Failed connection attempts since the last login.
    public private(set) var failedAttempts = 0
    private var nextActionNumber = 0
    private var outstandingPing: String?
    private var statusSent = false
    private var random: SplitMix64

    public init(login: AMILogin, backoff: AMIBackoff = AMIBackoff(), resyncVariables: [String] = [], seed: UInt64 = 0x5EED) {
        self.login = login
        self.backoff = backoff
        self.resyncVariables = resyncVariables
        random = SplitMix64(seed: seed)
    }

    public mutating func connected() -> Action {
        state = .awaitingBanner
        outstandingPing = nil
        return .none
    }

    /// The `Asterisk Call Manager/…` line, the first line of every connection: log in.
    public mutating func bannerReceived(_ banner: String) -> Action {
        outstandingPing = nil
        switch login.auth {
        case .plain:
            let action = AMIAction("Login", id: nextID(), [
                .init("Username", login.username), .init("Secret", login.secret), .init("Events", login.events),
            ])
            state = .awaitingLogin(actionID: action.actionID)
            return .send(action)
        case .md5:
            let action = AMIAction("Challenge", id: nextID(), [.init("AuthType", "MD5")])
            state = .awaitingChallenge(actionID: action.actionID)
            return .send(action)
        }
    }

    public mutating func received(_ message: AMIMessage) -> Action {
        if message.event == nil {
            return response(message)
        }
        switch state {
        case .resyncing(let listing) where message.actionID == listing:
            return listingEvent(message, listing: listing)
        case .resyncing, .ready:
            if message.event == "Shutdown" {
                state = .closing(.serverClosing)
                return .close(.serverClosing)
            }
            return .deliver(message)
        default:
            return .none
        }
    }

    public mutating func timerFired(_ timer: Timer) -> Action {
        switch (timer, state) {
        case (.ping, .ready), (.ping, .resyncing):
            guard outstandingPing == nil else { return .none }
            let ping = AMIAction("Ping", id: nextID())
            outstandingPing = ping.actionID
            return .sendPing(ping)
        case (.pingDeadline(let id), .ready), (.pingDeadline(let id), .resyncing):
            guard outstandingPing == id else { return .none }
            state = .closing(.pingTimeout)
            return .close(.pingTimeout)
        case (.loginDeadline, .awaitingBanner), (.loginDeadline, .awaitingChallenge), (.loginDeadline, .awaitingLogin):
            state = .closing(.loginTimeout)
            return .close(.loginTimeout)
        default:
            return .none
        }
    }

    /// calltrackd is stopping: say `Logoff` (Asterisk answers `Goodbye` and closes).
    public mutating func shutdownRequested() -> Action {
        switch state {
        case .disconnected, .closing, .awaitingBanner:
            return .none
        default:
            state = .closing(.loggedOff)
            return .send(AMIAction("Logoff", id: nextID()))
        }
    }

    /// The connection closed or could not be opened: wait, then try again.
    public mutating func disconnected() -> Action {
        state = .disconnected
        outstandingPing = nil
        failedAttempts += 1
        let fraction = Double(random.next() >> 11) / Double(1 << 53)
        return .reconnect(after: backoff.delay(attempt: failedAttempts, random: fraction))
    }

    private mutating func response(_ message: AMIMessage) -> Action {
        let success = message.response == "Success"
        switch state {
        case .awaitingChallenge(let id) where message.actionID == id:
            guard success, let challenge = message["Challenge"] else { return reject(message) }
            let action = AMIAction("Login", id: nextID(), [
                .init("AuthType", "MD5"), .init("Username", login.username),
                .init("Key", MD5.hex(challenge + login.secret)), .init("Events", login.events),
            ])
            state = .awaitingLogin(actionID: action.actionID)
            return .send(action)
        case .awaitingLogin(let id) where message.actionID == id:
            guard success else { return reject(message) }
            failedAttempts = 0
            statusSent = false
            let listing = AMIAction("CoreShowChannels", id: nextID())
            state = .resyncing(actionID: listing.actionID)
            return .loggedIn(resync: listing)
        case .resyncing(let listing) where message.actionID == listing && !success:
            state = .ready  // no permission to list: carry on with what we know
            return .finishResync
        default:
            if let ping = outstandingPing, message.actionID == ping {
                outstandingPing = nil
            } else if message.response == "Goodbye" {
                let reason = state == .closing(.loggedOff) ? CloseReason.loggedOff : .serverClosing
                state = .closing(reason)
                return .close(reason)
            }
            return .none
        }
    }

    private mutating func listingEvent(_ message: AMIMessage, listing: String) -> Action {
        switch message.event {
        case "CoreShowChannelsComplete" where !statusSent:
            // CoreShowChannel lacks the dialled number; Status carries it as DNID.
            statusSent = true
            let variables = resyncVariables.isEmpty ? [] : [AMIAction.Field("Variables", resyncVariables.joined(separator: ","))]
            let status = AMIAction("Status", id: nextID(), variables)
            state = .resyncing(actionID: status.actionID)
            return .send(status)
        case "StatusComplete", "CoreShowChannelsComplete":
            state = .ready
            return .finishResync
        default:
            return .deliver(message)
        }
    }

    private mutating func reject(_ message: AMIMessage) -> Action {
        let reason = CloseReason.loginRejected(message: message["Message"] ?? message.response ?? "no reason given")
        state = .closing(reason)
        return .close(reason)
    }

    private mutating func nextID() -> String {
        nextActionNumber += 1
        return "ct-\(nextActionNumber)"
    }
}
