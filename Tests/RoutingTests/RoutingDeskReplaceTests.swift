import CallTrackApp
import CallTrackCore
import Testing
import TestSupport

/// Dealers changed while calls are up (the admin API): each dealer keeps its busy lines and round-robin place by
/// id, a new dealer starts free, a removed one is never chosen again; auto weights follow the measured rate.
@Suite("Routing desk: dealers changed without a restart")
struct RoutingDeskReplaceTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let caller = try! PhoneNumber.e164("+74951234567")

    @Test("a held line follows its dealer when the list changes; a removed dealer's calls keep their decision and release nothing")
    func linesFollowTheDealer() throws {
        let moscow = try PhoneRegion.parse("+7 495")
        let north = Dealer(id: "north", regions: [moscow], weight: 3, capacity: 1, targets: ["PJSIP/n"])
        let south = Dealer(id: "south", regions: [moscow], weight: 1, capacity: 1, targets: ["PJSIP/s"])
        let desk = RoutingDesk(routes: RoutingTable(book: try DealerBook([north, south])))
        #expect(desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.t), call: "c1").dealer == "north")
        // South moves first in the list, a new dealer joins, north keeps its busy line under its id.
        let east = Dealer(id: "east", regions: [moscow], weight: 1, capacity: 1, targets: ["PJSIP/e"])
        try desk.replace(dealers: [south, east, north])
        #expect(desk.busyLines() == ["north": 1])
        let second = desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.t), call: "c2")
        #expect(second.dealer != "north", "north is still full: \(second.reason)")
        #expect(desk.decided(call: "c1")?.dealer == "north")
        // North retired while c1 is up: its line goes with it, c1's decision stays for its lead.
        try desk.replace(dealers: [south, east])
        #expect(desk.busyLines()["north"] == nil)
        #expect(desk.decided(call: "c1")?.dealer == "north")
        #expect(desk.release(call: "c1"))
        #expect(desk.busyLines().values.reduce(0, +) == 1, "only c2's line is held")
        for n in 3...20 {
            let d = desk.route(RoutingRequest(site: "acme", caller: Self.caller, at: Self.t), call: nil)
            #expect(d.dealer != "north", "call \(n): a retired dealer is never chosen")
        }
    }

    @Test("auto weights apply to `auto` dealers only, and keep the lines")
    func autoWeights() throws {
        let a = Dealer(id: "a", weight: 2, targets: ["PJSIP/a"], autoWeight: true)
        let b = Dealer(id: "b", weight: 5, targets: ["PJSIP/b"])
        let desk = RoutingDesk(routes: RoutingTable(book: try DealerBook([a, b])))
        _ = desk.route(RoutingRequest(site: "acme", caller: nil, at: Self.t), call: "c1")
        let before = desk.busyLines()
        #expect(desk.applyAutoWeights(["a": 9, "b": 1]) == ["a": 9])
        #expect(desk.weights() == ["a": 9, "b": 5])
        #expect(desk.busyLines() == before)
    }
}
