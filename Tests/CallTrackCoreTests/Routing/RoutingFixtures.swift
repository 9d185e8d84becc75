import CallTrackCore
import TestSupport

/// Zones written by hand (the domain reads no zone database): Moscow has kept +03:00 since 2014;
/// New York's 2026 daylight saving runs from 2026-03-08T07:00Z to 2026-11-01T06:00Z.
enum Zones {
    static let moscow = ZoneOffsets.fixed("Europe/Moscow", seconds: 3 * 3600)
    static let newYork = ZoneOffsets(identifier: "America/New_York", initialOffset: -5 * 3600, transitions: [
        (at: 1_772_953_200, offset: -4 * 3600), (at: 1_793_512_800, offset: -5 * 3600),
    ])
}

enum RoutingTime {
    /// A UTC instant from calendar fields (proleptic Gregorian, Howard Hinnant's days_from_civil).
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Timestamp {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month), d = Int64(day)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        return Timestamp(microsecondsSinceEpoch: (days * 86_400 + Int64(hour) * 3600 + Int64(minute) * 60) * 1_000_000)
    }
}

extension BusinessHours {
    /// Mon–Fri 09:00–18:00 in `zone`.
    static func officeHours(_ zone: ZoneOffsets, holidays: Set<LocalDate> = []) -> BusinessHours {
        let day = [BusinessHours.Range("09:00-18:00")!]
        return BusinessHours(zone: zone, weekly: [.monday: day, .tuesday: day, .wednesday: day, .thursday: day, .friday: day],
                             holidays: holidays)
    }
}

func number(_ e164: String) -> PhoneNumber { try! PhoneNumber.e164(e164) }
func region(_ text: String) -> PhoneRegion { try! PhoneRegion.parse(text) }
