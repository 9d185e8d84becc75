import AGI
import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Synchronization
import Testing
import TestSupport

@Suite("FastAGI over a real socket")
struct FastAGIServerTests {
    static let outcome = "calltrackd_agi_sessions_total"

    @Test("a real Asterisk environment block gets the dealer, its targets and the failover targets, one SET VARIABLE at a time")
    func normalSession() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        let head = AsteriskAGI.environment(uniqueID: "1733650000.42", arguments: ["1733650000.40", "74950000001"])
        let exchange = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "one routed session") { port in
            try await AsteriskAGI.session(port: port, head: Array(head.utf8))
        }
        #expect(exchange.commands == [
            "SET VARIABLE CT_LEAD \"1733650000.40\"",
            "SET VARIABLE CT_DEALER \"moscow-north\"",
            "SET VARIABLE CT_DIAL_COUNT \"3\"",
            "SET VARIABLE CT_DIAL \"PJSIP/dealer-12\"",
            "SET VARIABLE CT_DIAL_2 \"Local/200@dealers\"",
            "SET VARIABLE CT_DIAL_3 \"PJSIP/dealer-13\"",
        ])
        #expect(desk.busyLines() == ["moscow-north": 1], "the dealer's line stays held until the call ends")
        #expect(metrics.value(Self.outcome, [("outcome", "answered")]) == 1)
        #expect(desk.release(call: "1733650000.40"), "the line is held under the AMI call id (the Linkedid)")
    }

    @Test("without arguments the call id is agi_uniqueid and the tracking number agi_dnid; an unknown number gets no dealer")
    func environmentOnly() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let exchanges = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), waitingFor: "two sessions") { port in
            let known = try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment(uniqueID: "1733650000.7").utf8))
            let unknown = try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment(dnid: "unknown", extension: "s").utf8))
            return [known, unknown]
        }
        #expect(exchanges[0].variables["CT_LEAD"] == "1733650000.7")
        #expect(exchanges[0].variables["CT_DEALER"] == "moscow-north")
        #expect(exchanges[1].variables == ["CT_LEAD": "1733650000.42", "CT_DEALER": "", "CT_DIAL_COUNT": "0", "CT_DIAL": ""],
                "no site owns the number: the dialplan's own fallback")
    }

    @Test("with a sticky-dealer lookup to await, the caller's previous dealer gets the call")
    func stickyLookup() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let router = RoutingWorld.router(desk, sticky: { caller in caller.e164 == "+74951234567" ? "moscow-south" : nil })
        let exchange = try await RoutingWorld.withServer(router: router, waitingFor: "a sticky session") { port in
            try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment().utf8))
        }
        #expect(exchange.variables["CT_DEALER"] == "moscow-south")
        #expect(exchange.variables["CT_DIAL"] == "PJSIP/dealer-13")
        #expect(exchange.variables["CT_DIAL_2"] == "PJSIP/dealer-12", "the failover is the other Moscow dealer")
    }

    @Test("HANGUP in the middle: the session ends, the dealer's line is given back")
    func hangupMidRequest() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        let exchange = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "a hung-up session") { port in
            try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment().utf8)) { _, n in n == 2 ? "HANGUP" : "200 result=1" }
        }
        #expect(exchange.commands.count == 2)
        #expect(desk.busyLines().isEmpty)
        #expect(metrics.value(Self.outcome, [("outcome", "hung_up")]) == 1)
    }

    @Test("HANGUP before the blank line: nothing is decided")
    func hangupInHead() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let head = "agi_network: yes\nagi_request: agi://127.0.0.1/route\nHANGUP\n"
        let exchange = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), waitingFor: "a session hung up in its head") { port in
            try await AsteriskAGI.session(port: port, head: Array(head.utf8))
        }
        #expect(exchange.commands.isEmpty)
        #expect(desk.busyLines().isEmpty)
    }

    @Test("510 and 520 replies are counted and the remaining variables are still set")
    func refusedCommands() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        let exchange = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "a session with refusals") { port in
            try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment().utf8)) { _, n in
                switch n {
                case 1: "510 Invalid or unknown command"
                case 2: "520-Invalid command syntax.  Proper usage follows:\n Usage: SET VARIABLE <variablename> <value>\n520 End of proper usage."
                default: "200 result=1"
                }
            }
        }
        #expect(exchange.commands.count == 6)
        #expect(metrics.value(Self.outcome, [("outcome", "refused")]) == 1)
        #expect(metrics.value("calltrackd_agi_refused_commands_total") == 2)
    }

    @Test("a client that never sends the blank line is cut off at the head timeout")
    func neverEndingHead() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        let head = AsteriskAGI.environment().replacing("\n\n", with: "\n")
        let exchange = try await RoutingWorld.withServer(
            router: RoutingWorld.router(desk), configuration: RoutingWorld.configuration(headTimeout: .milliseconds(300)), metrics: metrics,
            waitingFor: "the head timeout"
        ) { port in
            try await AsteriskAGI.session(port: port, head: Array(head.utf8))
        }
        #expect(exchange.commands.isEmpty)
        #expect(metrics.value(Self.outcome, [("outcome", "head_timeout")]) == 1)
        #expect(desk.busyLines().isEmpty)
    }

    @Test("1 MB of garbage, with and without line breaks, is cut off and counted; the next session is served")
    func garbage() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        var rng = SeededRandom(seed: 24)
        let binary = (0..<(1 << 20)).map { _ in UInt8.random(in: 0...255, using: &rng) }.map { $0 == 10 ? 0 : $0 }
        let lines = (0..<(1 << 20)).map { index -> UInt8 in index % 80 == 79 ? 10 : UInt8.random(in: 32...126, using: &rng) }
        let overlong = Array("agi_network: ".utf8) + Array(repeating: UInt8(ascii: "x"), count: 1 << 20)
        let after = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "garbage cut off") { port in
            for head in [binary, lines, overlong] {
                let exchange = try await AsteriskAGI.session(port: port, head: head)
                #expect(exchange.commands.isEmpty)
            }
            return try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment().utf8))
        }
        #expect(metrics.value(Self.outcome, [("outcome", "too_long")]) == 2)
        #expect(metrics.value(Self.outcome, [("outcome", "malformed")]) == 1)
        #expect(after.variables["CT_DEALER"] == "moscow-north")
    }

    @Test("a caller name that is not UTF-8 (Windows-1251) is read, counted, and the call is routed")
    func nonUTF8() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let metrics = RecordingMetrics()
        var head = Array(AsteriskAGI.environment().utf8)
        let name = Array("agi_calleridname: ".utf8) + [0xC8, 0xE2, 0xE0, 0xED, 0x0A]   // "Иван" in Windows-1251
        head.insert(contentsOf: name, at: 0)
        let sent = head
        let exchange = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "a non-UTF-8 head") { port in
            try await AsteriskAGI.session(port: port, head: sent)
        }
        #expect(exchange.variables["CT_DEALER"] == "moscow-north")
        #expect(metrics.value("calltrackd_agi_invalid_utf8_total") == 1)
    }

    @Test("a decision that misses the deadline: the default route is answered at once, the late decision's line is given back")
    func deadline() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let gate = Gate()
        let (abandoned, sink) = AsyncStream.makeStream(of: AGIAnswer.self)
        let router = ObservedRouter(inner: RoutingWorld.router(desk, sticky: { _ in await gate.wait(); return nil }), abandonedSink: sink)
        let metrics = RecordingMetrics()
        let exchange = try await RoutingWorld.withServer(
            router: router, configuration: RoutingWorld.configuration(deadline: .milliseconds(50)), metrics: metrics, waitingFor: "the deadline"
        ) { port in
            let exchange = try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment(arguments: ["1733650000.40"]).utf8))
            gate.open()
            let late = try await firstElement(abandoned, waitingFor: "the late decision to be abandoned")
            #expect(late.call == "1733650000.40" && !late.isFallback)
            return exchange
        }
        #expect(exchange.variables == ["CT_LEAD": "1733650000.40", "CT_DEALER": "", "CT_DIAL_COUNT": "1", "CT_DIAL": "PJSIP/reception"])
        #expect(metrics.value("calltrackd_agi_deadline_missed_total") == 1)
        #expect(desk.busyLines().isEmpty)
    }

    @Test("1,000 concurrent sessions are all answered, and no dealer gets more lines than its capacity")
    func thousandSessions() async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table(capacity: 400))
        let metrics = RecordingMetrics()
        let exchanges = try await RoutingWorld.withServer(router: RoutingWorld.router(desk), metrics: metrics, waitingFor: "1,000 sessions") { port in
            try await withThrowingTaskGroup(of: AsteriskAGI.Exchange.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        try await AsteriskAGI.session(port: port, head: Array(AsteriskAGI.environment(uniqueID: "1733650000.\(index)").utf8))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        #expect(exchanges.count == 1000)
        #expect(exchanges.allSatisfy { $0.commands.count >= 4 && $0.variables["CT_DIAL"]?.isEmpty == false })
        let dealers = Dictionary(grouping: exchanges, by: { $0.variables["CT_DEALER"] ?? "?" }).mapValues(\.count)
        #expect(dealers["moscow-north"] == 400 && dealers["moscow-south"] == 200, "\(dealers)")
        #expect(dealers[""] == 400, "the rest found both dealers full and got the default route")
        let outcomes = AGISession.Outcome.allCases.map { "\($0.rawValue)=\(metrics.value(Self.outcome, [("outcome", $0.rawValue)]) ?? 0)" }
        #expect(metrics.value(Self.outcome, [("outcome", "answered")]) == 1000, "\(outcomes)")
        #expect(desk.busyLines() == ["moscow-north": 400, "moscow-south": 200])
    }
}

/// Holds waiters until the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
