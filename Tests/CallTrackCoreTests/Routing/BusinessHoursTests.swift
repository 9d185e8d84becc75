import CallTrackCore
import Testing

@Suite("Business hours and caller regions")
struct BusinessHoursTests {
    @Test("a Moscow dealer is open at 10:00 Moscow time, which is 07:00 UTC, and closed at 18:00 sharp")
    func moscowOffice() {
        let hours = BusinessHours.officeHours(Zones.moscow)
        // Tuesday 2026-12-08.
        #expect(hours.status(at: RoutingTime.utc(2026, 12, 8, 7, 0)).isOpen)
        #expect(!hours.status(at: RoutingTime.utc(2026, 12, 8, 5, 59)).isOpen)   // 08:59 local
        #expect(!hours.status(at: RoutingTime.utc(2026, 12, 8, 15, 0)).isOpen)   // 18:00 local: closing time
        #expect(hours.status(at: RoutingTime.utc(2026, 12, 8, 14, 59)).isOpen)
        // Saturday.
        #expect(hours.status(at: RoutingTime.utc(2026, 12, 12, 10, 0)) == .closed(
            LocalTime(date: LocalDate(year: 2026, month: 12, day: 12), weekday: .saturday, minuteOfDay: 13 * 60), why: "closed on Sat"))
    }

    @Test("New York hours follow daylight saving: 09:00 local is 13:00 UTC in summer, 14:00 UTC in winter")
    func newYorkDaylightSaving() {
        let hours = BusinessHours.officeHours(Zones.newYork)
        // Wednesday 2026-07-15 (EDT, -4).
        #expect(hours.status(at: RoutingTime.utc(2026, 7, 15, 13, 0)).isOpen)
        #expect(!hours.status(at: RoutingTime.utc(2026, 7, 15, 12, 59)).isOpen)
        // Wednesday 2026-12-09 (EST, -5).
        #expect(!hours.status(at: RoutingTime.utc(2026, 12, 9, 13, 30)).isOpen)
        #expect(hours.status(at: RoutingTime.utc(2026, 12, 9, 14, 0)).isOpen)
        // One instant, two dealers: 15:30 UTC on Tue 2026-12-08 is 18:30 in Moscow (closed) and 10:30 in New York (open).
        let instant = RoutingTime.utc(2026, 12, 8, 15, 30)
        #expect(!BusinessHours.officeHours(Zones.moscow).status(at: instant).isOpen)
        #expect(hours.status(at: instant).isOpen)
    }

    @Test("a holiday closes the whole local day, by the dealer's own calendar")
    func holidays() {
        let hours = BusinessHours.officeHours(Zones.moscow, holidays: [LocalDate("2026-12-31")!])
        let noon = RoutingTime.utc(2026, 12, 31, 9, 0)
        #expect(hours.status(at: noon) == .closed(
            LocalTime(date: LocalDate(year: 2026, month: 12, day: 31), weekday: .thursday, minuteOfDay: 12 * 60), why: "holiday 2026-12-31"))
        // 2026-12-30T22:30Z is already the 31st in Moscow (01:30): closed, though the UTC date is the 30th.
        #expect(!hours.status(at: RoutingTime.utc(2026, 12, 30, 22, 30)).isOpen)
        #expect(hours.status(at: RoutingTime.utc(2026, 12, 30, 9, 0)).isOpen)
    }

    @Test("dates and ranges that do not exist are refused", arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "31.12.2026", ""])
    func badDates(text: String) {
        #expect(LocalDate(text) == nil)
    }

    @Test("opening ranges", arguments: [("09:00-18:00", true), ("00:00-24:00", true), ("18:00-09:00", false), ("9-18", false), ("09:00-24:30", false)])
    func ranges(text: String, valid: Bool) {
        #expect((BusinessHours.Range(text) != nil) == valid)
    }

    @Test("the caller's region: area codes for +7 and +1, the country elsewhere", arguments: [
        ("+74951234567", "+7 495"), ("+78121234567", "+7 812"), ("+79161234567", "+7 916"), ("+77271234567", "+7 727"),
        ("+12125550123", "+1 212"), ("+442079460000", "+44"), ("+375171234567", "+375"), ("+49301234567", "+49"),
    ])
    func callerRegion(e164: String, expected: String) {
        #expect(number(e164).region.description == expected)
        #expect(number(e164).region == region(expected))
    }

    @Test("region spellings in the config", arguments: [
        ("+7 495", true), ("+7-495", true), ("+7", true), ("+44", true), ("+1 212", true),
        ("7 495", false), ("+7 49", false), ("+44 20", false), ("+4", false), ("+7 495 1", false), ("+", false),
    ])
    func regionSpellings(text: String, valid: Bool) {
        #expect(((try? PhoneRegion.parse(text)) != nil) == valid)
    }
}
