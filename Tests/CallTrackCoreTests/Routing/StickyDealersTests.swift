import CallTrackCore
import Testing

/// `StickyDealers` alone: the answers its builder derives from the three tables, and its phases (a snapshot and
/// the refreshes that arrive while it is read).
@Suite("Sticky dealers: builder and phases")
struct StickyDealersTests {
    static let t = Timestamp(secondsSinceEpoch: 1_800_000_000)
    static let alice = "+79160000001"
    static let bob = "+79160000002"
    static let carol = "+79160000003"

    static func at(_ seconds: Int64) -> Timestamp { t + .seconds(seconds) }

    @Test("a number's own leads, and its person's: the survivor's group, one merge step as the store reads it")
    func builder() {
        var builder = StickyDealers.Builder()
        builder.lead(caller: Self.alice, visitor: nil, dealer: "north", at: Self.at(10))
        builder.lead(caller: nil, visitor: "v-phone", dealer: "south", at: Self.at(20))   // merged into v-survivor
        builder.lead(caller: nil, visitor: "v-survivor", dealer: "east", at: Self.at(5))
        builder.phone(Self.bob, boundTo: "v-survivor")
        builder.phone(Self.alice, boundTo: "v-phone")
        builder.merge("v-phone", into: "v-survivor")
        var sticky = StickyDealers()
        sticky.startLoading()
        sticky.loaded(builder)
        #expect(sticky.answer(for: Self.alice, before: Self.at(100)) == .dealer("south"), "alice's person's latest beats her own")
        #expect(sticky.answer(for: Self.bob, before: Self.at(100)) == .dealer("south"))
        #expect(sticky.answer(for: Self.carol, before: Self.at(100)) == .none)
        #expect(sticky.answer(for: Self.alice, before: Self.at(20)) == .readStore, "the latest is not before: only the store knows")
        #expect(sticky.count == 2)
    }

    @Test("off and loading answer readStore; refreshes while loading win over the snapshot")
    func phases() {
        var sticky = StickyDealers()
        sticky.refreshed(Self.alice, .init(dealer: "north", at: Self.at(1)))
        #expect(sticky.answer(for: Self.alice, before: Self.at(100)) == .readStore, "off: refreshes ignored")
        #expect(!sticky.isOn)
        sticky.startLoading()
        sticky.refreshed(Self.alice, .init(dealer: "south", at: Self.at(2)))
        sticky.refreshed(Self.bob, nil)
        #expect(sticky.answer(for: Self.alice, before: Self.at(100)) == .readStore, "loading")
        var snapshot = StickyDealers.Builder()
        snapshot.lead(caller: Self.alice, visitor: nil, dealer: "north", at: Self.at(1))
        snapshot.lead(caller: Self.bob, visitor: nil, dealer: "north", at: Self.at(1))
        snapshot.lead(caller: Self.carol, visitor: nil, dealer: "east", at: Self.at(1))
        sticky.loaded(snapshot)
        #expect(sticky.answer(for: Self.alice, before: Self.at(100)) == .dealer("south"))
        #expect(sticky.answer(for: Self.bob, before: Self.at(100)) == .none, "erased while loading")
        #expect(sticky.answer(for: Self.carol, before: Self.at(100)) == .dealer("east"))
        sticky.refreshed(Self.carol, nil)
        #expect(sticky.answer(for: Self.carol, before: Self.at(100)) == .none)
        sticky.lost()
        #expect(sticky.answer(for: Self.alice, before: Self.at(100)) == .readStore)
    }
}
