import AMI
import Testing

@Suite("AMI client state machine")
struct AMIClientStateMachineTests {
    private let login = AMILogin(username: "calltrackd", secret: "calltrackd", auth: .plain)

    private func message(_ pairs: (String, String)...) -> AMIMessage { AMIMessage(pairs) }

    /// A machine past a plain login (the Login was `ct-1`, the listing is `ct-2`).
    private func loggedIn() -> AMIClientStateMachine {
        var sm = AMIClientStateMachine(login: login)
        _ = sm.connected()
        _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
        _ = sm.received(message(("Response", "Success"), ("ActionID", "ct-1")))
        return sm
    }

    @Test("plain login, then resync by CoreShowChannels and Status, then events flow")
    func plainLoginAndResync() {
        var sm = AMIClientStateMachine(login: login, resyncVariables: ["CT_DID"])
        #expect(sm.connected() == .none)
        #expect(sm.bannerReceived("Asterisk Call Manager/9.0.0") == .send(AMIAction("Login", id: "ct-1", [
            .init("Username", "calltrackd"), .init("Secret", "calltrackd"), .init("Events", "on"),
        ])))
        #expect(sm.received(message(("Event", "Newchannel"))) == .none, "no events before login")
        #expect(sm.received(message(("Response", "Success"), ("ActionID", "ct-1"))) == .loggedIn(resync: AMIAction("CoreShowChannels", id: "ct-2")))
        let row = message(("Event", "CoreShowChannel"), ("ActionID", "ct-2"), ("Uniqueid", "1.1"))
        #expect(sm.received(row) == .deliver(row))
        #expect(sm.received(message(("Event", "CoreShowChannelsComplete"), ("ActionID", "ct-2"))) == .send(AMIAction("Status", id: "ct-3", [.init("Variables", "CT_DID")])))
        #expect(sm.received(message(("Event", "StatusComplete"), ("ActionID", "ct-3"))) == .finishResync)
        #expect(sm.state == .ready)
        let event = message(("Event", "Hangup"))
        #expect(sm.received(event) == .deliver(event))
    }

    @Test("MD5 challenge login sends md5(challenge + secret), as Asterisk checks it")
    func md5Login() {
        // challenge, secret and key recorded from a real Asterisk 20 (sip-agents/09c)
        #expect(AMILogin.md5Key(challenge: "434925853", secret: "calltrackd") == "97b47de973e8b7bdb025dc3bc40c4854")
        #expect(AMILogin.md5Key(challenge: "", secret: "") == "d41d8cd98f00b204e9800998ecf8427e")
        var sm = AMIClientStateMachine(login: AMILogin(username: "calltrackd", secret: "calltrackd", auth: .md5, events: "call,agent"))
        _ = sm.connected()
        #expect(sm.bannerReceived("Asterisk Call Manager/9.0.0") == .send(AMIAction("Challenge", id: "ct-1", [.init("AuthType", "MD5")])))
        #expect(sm.received(message(("Response", "Success"), ("ActionID", "ct-1"), ("Challenge", "434925853"))) == .send(AMIAction("Login", id: "ct-2", [
            .init("AuthType", "MD5"), .init("Username", "calltrackd"), .init("Key", "97b47de973e8b7bdb025dc3bc40c4854"), .init("Events", "call,agent"),
        ])))
        #expect(sm.received(message(("Response", "Success"), ("ActionID", "ct-2"))) == .loggedIn(resync: AMIAction("CoreShowChannels", id: "ct-3")))
    }

    @Test("a refused login closes with Asterisk's reason, and retries back off")
    func loginRejected() {
        var sm = AMIClientStateMachine(login: login, backoff: AMIBackoff(initial: .seconds(1), maximum: .seconds(8), jitter: 0.2))
        var delays: [Duration] = []
        for _ in 0..<6 {
            _ = sm.connected()
            _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
            let loginID = if case .awaitingLogin(let id) = sm.state { id } else { "" }
            #expect(sm.received(message(("Response", "Error"), ("ActionID", loginID), ("Message", "Authentication failed")))
                == .close(.loginRejected(message: "Authentication failed")))
            guard case .reconnect(let delay) = sm.disconnected() else { Issue.record("no reconnect"); return }
            delays.append(delay)
        }
        #expect(delays[0] >= .milliseconds(800) && delays[0] <= .seconds(1))
        #expect(delays[1] > delays[0] && delays[2] > delays[1] && delays[3] > delays[2], "\(delays)")
        #expect(delays.allSatisfy { $0 <= .seconds(8) })
        #expect(delays[5] >= .milliseconds(6400), "capped at the maximum, less at most 20% jitter")
    }

    @Test("a successful login resets the backoff")
    func backoffResets() {
        var sm = AMIClientStateMachine(login: login, backoff: AMIBackoff(initial: .seconds(1), jitter: 0))
        _ = sm.disconnected()
        _ = sm.disconnected()
        #expect(sm.disconnected() == .reconnect(after: .seconds(4)))
        _ = sm.connected()
        _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
        _ = sm.received(message(("Response", "Success"), ("ActionID", "ct-1")))
        #expect(sm.disconnected() == .reconnect(after: .seconds(1)))
    }

    @Test("ping, pong, and a ping nobody answers")
    func ping() {
        var sm = AMIClientStateMachine(login: login)
        _ = sm.connected()
        #expect(sm.timerFired(.ping) == .none, "no ping before login")
        _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
        _ = sm.received(message(("Response", "Success"), ("ActionID", "ct-1")))
        #expect(sm.timerFired(.ping) == .sendPing(AMIAction("Ping", id: "ct-3")))
        #expect(sm.timerFired(.ping) == .none, "one ping in flight at a time")
        #expect(sm.received(message(("Response", "Success"), ("ActionID", "ct-3"), ("Ping", "Pong"))) == .none)
        #expect(sm.timerFired(.pingDeadline(actionID: "ct-3")) == .none, "answered in time")
        #expect(sm.timerFired(.ping) == .sendPing(AMIAction("Ping", id: "ct-4")))
        #expect(sm.timerFired(.pingDeadline(actionID: "ct-4")) == .close(.pingTimeout))
    }

    @Test("a banner starts a login whatever state the last connection left")
    func bannerAgain() {
        var sm = loggedIn()
        guard case .send(let again) = sm.bannerReceived("Asterisk Call Manager/9.0.0") else { Issue.record("no login"); return }
        #expect(again.name == "Login")
    }

    @Test("Goodbye and Shutdown close the session; a listing Asterisk refuses still finishes the resync")
    func closing() {
        var sm = loggedIn()
        #expect(sm.received(message(("Response", "Error"), ("ActionID", "ct-2"), ("Message", "Permission denied"))) == .finishResync)
        #expect(sm.received(message(("Event", "Shutdown"), ("Shutdown", "Cleanly"))) == .close(.serverClosing))
        _ = sm.connected()
        _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
        #expect(sm.received(message(("Response", "Goodbye"), ("ActionID", "x"))) == .close(.serverClosing))
    }

    @Test("no banner or no login reply in time closes the connection; after login the deadline is moot")
    func loginDeadline() {
        var sm = AMIClientStateMachine(login: login)
        _ = sm.connected()
        #expect(sm.timerFired(.loginDeadline) == .close(.loginTimeout))
        _ = sm.connected()
        _ = sm.bannerReceived("Asterisk Call Manager/9.0.0")
        #expect(sm.timerFired(.loginDeadline) == .close(.loginTimeout))
        var ready = loggedIn()
        #expect(ready.timerFired(.loginDeadline) == .none)
    }

    @Test("shutdown says Logoff once, and Goodbye closes")
    func shutdown() {
        var sm = loggedIn()
        #expect(sm.shutdownRequested() == .send(AMIAction("Logoff", id: "ct-3")))
        #expect(sm.shutdownRequested() == .none)
        #expect(sm.received(message(("Event", "Newchannel"))) == .none, "no more events once leaving")
        #expect(sm.received(message(("Response", "Goodbye"), ("ActionID", "ct-3"))) == .close(.loggedOff), "our own stop, not Asterisk's")
    }
}
