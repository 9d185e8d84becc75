import CallTrackApp
import CallTrackCore
import Foundation
import Testing
import TestSupport

/// `dealer_stats.*` and a dealer's `weight: auto`: read, checked, and known to the unknown-keys check.
@Suite("Dealer statistics in the config")
struct DealerStatsConfigTests {
    static let dealers = """
        dealers: [north, south]
        dealer:
          north: { regions: ["+7 495"], weight: auto, targets: ["PJSIP/dealer-12"] }
          south: { regions: ["+7 495"], weight: 2, targets: ["PJSIP/dealer-13"] }

        """

    @Test("defaults: hours kept 400 days, a callback counts within an hour; `weight: auto` starts at 1 and is marked auto")
    func defaults() async throws {
        let config = try await RoutingConfigTests.load(Self.dealers)
        #expect(config.dealerStatsKept == .seconds(400 * 86_400))
        #expect(config.callbackWindow == .seconds(3600))
        let north = try #require(config.routing.book["north"])
        #expect(north.autoWeight && north.weight == 1)
        let south = try #require(config.routing.book["south"])
        #expect(!south.autoWeight && south.weight == 2)
    }

    @Test("dealer_stats.hours_kept and dealer_stats.callback_window are read from the file and the environment")
    func keysAreRead() async throws {
        let config = try await RoutingConfigTests.load(Self.dealers + """
            dealer_stats: { hours_kept: 730d, callback_window: 30m }

            """)
        #expect(config.dealerStatsKept == .seconds(730 * 86_400))
        #expect(config.callbackWindow == .seconds(1800))
        let moved = try await RoutingConfigTests.load(Self.dealers, environment: ["CALLTRACKD_DEALER_STATS_CALLBACK_WINDOW": "2h"])
        #expect(moved.callbackWindow == .seconds(7200))
    }

    @Test("a window under a minute, hours kept under a day, and a mistyped key are clear errors")
    func badValues() async throws {
        #expect(await RoutingConfigTests.problem(Self.dealers + "dealer_stats: { callback_window: 10s }\n")?.key == "dealer_stats.callback_window")
        #expect(await RoutingConfigTests.problem(Self.dealers + "dealer_stats: { hours_kept: 1h }\n")?.key == "dealer_stats.hours_kept")
        let typo = await RoutingConfigTests.problem(Self.dealers + "dealer_stats: { callback_windw: 30m }\n")
        #expect(typo?.description.contains("dealer_stats.callback_window") == true, "\(typo?.description ?? "no problem")")
    }
}
