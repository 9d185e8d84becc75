import CallTrackApp
import CallTrackCore
import Testing
import TestSupport

@Suite("Routing desk: decisions shared by concurrent calls")
struct RoutingDeskTests {
    static let caller = try! PhoneNumber.e164("+74951234567")
    static let at = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test("concurrent decisions never hold more lines than a dealer's capacity, and released lines are handed out again", arguments: [3 as UInt64, 11, 99])
    func capacityUnderConcurrency(seed: UInt64) async throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table(capacity: 4))
        let capacities = ["moscow-north": 4, "moscow-south": 2]
        let overflows = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var rng = SeededRandom(seed: seed &+ UInt64(worker))
                    var held: [String] = []
                    for step in 0..<400 {
                        let call = "w\(worker)-\(step)"
                        if desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.at), call: call).dealer != nil { held.append(call) }
                        for (dealer, lines) in desk.busyLines() where lines > capacities[dealer]! { overflows.withLock { $0 += 1 } }
                        if !held.isEmpty, rng.chance(0.5) { desk.release(call: held.remove(at: Int.random(in: 0..<held.count, using: &rng))) }
                    }
                    for call in held { desk.release(call: call) }
                }
            }
        }
        #expect(overflows.value == 0)
        #expect(desk.busyLines().isEmpty, "every line given back")
    }

    @Test("a call routed twice keeps one line; a hold nobody releases lapses after its limit")
    func holds() throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table(capacity: 4), maxHold: .seconds(3600))
        _ = desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.at), call: "c1")
        _ = desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.at), call: "c1")
        #expect(desk.busyLines().values.reduce(0, +) == 1)
        #expect(!desk.release(call: "nope"))
        let later = Self.at + .seconds(3601)
        _ = desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: later), call: "c2")
        #expect(desk.busyLines().values.reduce(0, +) == 1, "c1 lapsed, c2 holds one")
        #expect(!desk.release(call: "c1"))
        #expect(desk.release(call: "c2"))
    }

    @Test("a what-if decision without a call id holds nothing")
    func whatIf() throws {
        let desk = RoutingDesk(routes: try RoutingWorld.table(capacity: 4))
        for _ in 0..<10 { #expect(desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.at), call: nil).dealer != nil) }
        #expect(desk.busyLines().isEmpty)
    }
}
