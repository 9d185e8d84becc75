import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Testing
import TestSupport

@Suite("Dealers and FastAGI in the config")
struct RoutingConfigTests {
    static let base = """
        sites: [acme]
        site:
          acme:
            default_number: "+74950000000"
            default_route: "PJSIP/reception"
            pools: [acme-main]
        pool:
          acme-main:
            numbers: ["+74950000001"]

        """

    static func load(_ yaml: String, environment: [String: String] = [:]) async throws -> AppConfig {
        let dir = TemporaryDirectory("routing-config")
        defer { dir.remove() }
        let path = dir.file("calltrackd.yaml")
        try (base + yaml).write(toFile: path, atomically: true, encoding: .utf8)
        return try await ConfigLoader.load(file: path, environment: environment)
    }

    static func problem(_ yaml: String) async -> ConfigProblem? {
        do {
            _ = try await load(yaml)
            return nil
        } catch let problem as ConfigProblem {
            return problem
        } catch {
            return nil
        }
    }

    @Test("a dealer with every key: regions, sites, callers, priority, weight, capacity, hours in its zone, holidays, targets")
    func fullDealer() async throws {
        let config = try await Self.load("""
            dealers: [moscow-north, spb]
            dealer:
              moscow-north:
                name: "Moscow North"
                regions: ["+7 495", "+7 499"]
                sites: [acme]
                callers: ["8 (495) 111-22-33"]
                priority: 1
                weight: 3
                capacity: 4
                time_zone: Europe/Moscow
                hours: { weekdays: "09:00-13:00, 14:00-18:00", sat: "10:00-14:00", fri: "09:00-17:00" }
                holidays: ["2026-12-31"]
                targets: ["PJSIP/dealer-12", "Local/200@dealers"]
              spb:
                regions: ["+7 812"]
                targets: ["PJSIP/dealer-spb"]
                enabled: false
            """)
        let book = config.routing.book
        let north = try #require(book["moscow-north"])
        #expect(north.name == "Moscow North")
        #expect(north.regions.map(\.description) == ["+7 495", "+7 499"])
        let listed = try PhoneNumber.e164("+74951112233")
        #expect(north.sites == ["acme"] && north.callers == [listed])
        #expect(north.priority == 1 && north.weight == 3 && north.capacity == 4)
        #expect(north.targets == ["PJSIP/dealer-12", "Local/200@dealers"])
        #expect(north.hours.weekly[Weekday.monday.index].map(\.description) == ["09:00-13:00", "14:00-18:00"])
        #expect(north.hours.weekly[Weekday.friday.index].map(\.description) == ["09:00-17:00"], "a day's own key overrides weekdays")
        #expect(north.hours.weekly[Weekday.sunday.index].isEmpty)
        #expect(north.hours.holidays == [LocalDate("2026-12-31")!])
        #expect(north.hours.zone.offset(at: Timestamp(secondsSinceEpoch: 1_796_000_000)) == 3 * 3600)
        let spb = try #require(book["spb"])
        #expect(!spb.enabled && spb.weight == 1 && spb.capacity == nil && spb.priority == 1)
        #expect(spb.hours.status(at: Timestamp(secondsSinceEpoch: 1_796_000_000)).isOpen, "no hours: always open")
        #expect(config.routing.defaultRoutes == ["acme": "PJSIP/reception"])
        #expect(config.agi == nil, "FastAGI is off unless agi is configured")
    }

    @Test("agi: defaults 127.0.0.1:4573 and 200 ms, CALLTRACKD_AGI_HOST/PORT move it")
    func agiSettings() async throws {
        let on = try #require(try await Self.load("agi: { enabled: true }\n").agi)
        #expect(on.host == "127.0.0.1" && on.port == 4573 && on.deadline == .milliseconds(200))
        let moved = try #require(try await Self.load("agi: { enabled: true, deadline_ms: 150 }\n",
                                                     environment: ["CALLTRACKD_AGI_HOST": "0.0.0.0", "CALLTRACKD_AGI_PORT": "14573"]).agi)
        #expect(moved.host == "0.0.0.0" && moved.port == 14573 && moved.deadline == .milliseconds(150))
        #expect(try await Self.load("", environment: ["CALLTRACKD_AGI_PORT": "4600"]).agi?.port == 4600, "naming a port turns it on")
        #expect(try await Self.load("agi: { enabled: false, port: 4600 }\n").agi == nil)
    }

    @Test("bad dealer entries name their key and say what to write", arguments: [
        ("dealers: [a]\n", "dealer.a.targets", "missing"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a,t\"] } }\n", "dealer.a.targets[0]", "not a dial string"),
        ("dealers: [a]\ndealer: { a: { targets: [\"dealer-12\"] } }\n", "dealer.a.targets[0]", "technology/resource"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], regions: [\"495\"] } }\n", "dealer.a.regions[0]", "+7 495"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], regions: [\"+44 20\"] } }\n", "dealer.a.regions[0]", "+7 and +1 only"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], weight: 0 } }\n", "dealer.a.weight", "from 1 to 1000"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], time_zone: Mars/Olympus } }\n", "dealer.a.time_zone", "IANA"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], hours: { mon: \"18:00-09:00\" } } }\n", "dealer.a.hours.mon", "two"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], holidays: [\"31.12.2026\"] } }\n", "dealer.a.holidays[0]", "YYYY-MM-DD"),
        ("dealers: [a]\ndealer: { a: { targets: [\"PJSIP/a\"], callers: [\"call me\"] } }\n", "dealer.a.callers[0]", "not a phone number"),
        ("dealers: [a, a]\ndealer: { a: { targets: [\"PJSIP/a\"] } }\n", "dealers", "twice"),
        ("dealers: [\"a b\"]\n", "dealers", "not a valid dealer id"),
    ])
    func badEntries(yaml: String, key: String, says: String) async throws {
        let problem = try #require(await Self.problem(yaml), "\(yaml) was accepted")
        #expect(problem.key == key)
        #expect(problem.message.contains(says), "\(problem.message)")
    }

    @Test("a site's default route is checked like a dial string, under its own key and env variable")
    func defaultRoute() async throws {
        do {
            _ = try await Self.load("", environment: ["CALLTRACKD_SITE_ACME_DEFAULT_ROUTE": "reception"])
            Issue.record("a default route without a technology was accepted")
        } catch let problem as ConfigProblem {
            #expect(problem.key == "site.acme.default_route" && problem.message.contains("dial string"))
        }
    }

    @Test("the example config ships two dealers, a default route and FastAGI on 127.0.0.1:4573")
    func exampleConfig() async throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/calltrackd.example.yaml").standardized.path
        let config = try await ConfigLoader.load(file: path, environment: [:])
        #expect(config.routing.book.dealers.count == 2)
        #expect(config.routing.defaultRoutes["acme"] != nil)
        #expect(config.agi?.host == "127.0.0.1" && config.agi?.port == 4573)
    }

    @Test("IANA zones come from the system's time zone data, with their history and daylight saving")
    func ianaZones() throws {
        let moscow = try #require(ZoneOffsets.iana("Europe/Moscow"))
        #expect(moscow.offset(at: Timestamp(secondsSinceEpoch: 1_796_000_000)) == 3 * 3600)      // 2026
        #expect(moscow.offset(at: Timestamp(secondsSinceEpoch: 1_340_000_000)) == 4 * 3600)      // 2012: permanent +04:00
        let newYork = try #require(ZoneOffsets.iana("America/New_York"))
        #expect(newYork.offset(at: Timestamp(secondsSinceEpoch: 1_784_000_000)) == -4 * 3600)    // July 2026
        #expect(newYork.offset(at: Timestamp(secondsSinceEpoch: 1_796_000_000)) == -5 * 3600)    // December 2026
        #expect(ZoneOffsets.iana("Mars/Olympus") == nil)
    }
}
