/// UTC calendar fields and text forms of a `Timestamp`, without Foundation: the HTTP answer and the
/// PostgreSQL writer format one on every request, where Foundation's formatters cost microseconds.
extension Timestamp {
    public struct UTCFields: Hashable, Sendable {
        public var year: Int64, month: Int64, day: Int64
        public var hour: Int64, minute: Int64, second: Int64, microsecond: Int64
    }

    public var utc: UTCFields {
        let micros = microsecondsSinceEpoch
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        return UTCFields(year: year, month: month, day: day, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
                         second: secondOfDay % 60, microsecond: micros - seconds * 1_000_000)
    }

    /// The UTC day the instant falls on, as days since 1970-01-01 (`LocalDate.daysSinceEpoch` of that day).
    public var daysSinceEpoch: Int64 {
        let day: Int64 = 86_400_000_000
        return microsecondsSinceEpoch >= 0 ? microsecondsSinceEpoch / day : (microsecondsSinceEpoch - day + 1) / day
    }

    /// `2026-11-24T18:31:08Z`: ISO 8601 in UTC, whole seconds (what the API answers).
    public var iso8601: String {
        let f = utc
        return "\(Self.pad(f.year, 4))-\(Self.pad(f.month, 2))-\(Self.pad(f.day, 2))T\(Self.pad(f.hour, 2)):\(Self.pad(f.minute, 2)):\(Self.pad(f.second, 2))Z"
    }

    public static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's `civil_from_days`).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension LocalDate {
    /// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        return era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
    }

    /// The day's first instant in UTC.
    public var utcMidnight: Timestamp { Timestamp(microsecondsSinceEpoch: daysSinceEpoch * 86_400_000_000) }

    /// The day in UTC: from its midnight to the next.
    public var utcDay: (from: Timestamp, to: Timestamp) { (utcMidnight, utcMidnight + .seconds(86_400)) }
}
