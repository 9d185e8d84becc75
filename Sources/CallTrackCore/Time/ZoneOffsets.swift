/// A time zone as the UTC offsets it has had: sorted transition instants and the offset from each on.
///
/// The domain reads no time zone database (that is I/O); the wiring builds this from the system's
/// IANA zones once at start, tests write transitions by hand. Looking up an instant is a binary search.
/// ```
/// Europe/Moscow: initial +04:00, 2014-10-26T02:00+04:00 -> +03:00
/// offset(at: 2026-12-08T07:00Z) == 3 * 3600
/// ```
public struct ZoneOffsets: Hashable, Sendable, CustomStringConvertible {
    /// The IANA identifier (`Europe/Moscow`) or a fixed spelling (`UTC+03:00`).
    public let identifier: String
    /// Offset in seconds before the first transition.
    public let initialOffset: Int32
    /// Seconds since the epoch at which the offset changes, ascending.
    public let transitions: [Int64]
    /// The offset in seconds from `transitions[i]` on.
    public let offsets: [Int32]

    public init(identifier: String, initialOffset: Int32, transitions: [(at: Int64, offset: Int32)] = []) {
        let sorted = transitions.sorted { $0.at < $1.at }
        self.identifier = identifier
        self.initialOffset = initialOffset
        self.transitions = sorted.map(\.at)
        self.offsets = sorted.map(\.offset)
    }

    /// A zone that never changes its offset.
    public static func fixed(_ identifier: String, seconds: Int32) -> ZoneOffsets {
        ZoneOffsets(identifier: identifier, initialOffset: seconds)
    }

    public static let utc = ZoneOffsets.fixed("UTC", seconds: 0)

    public var description: String { identifier }

    /// Seconds to add to UTC to get local time at `instant`.
    public func offset(at instant: Timestamp) -> Int32 {
        let seconds = instant.microsecondsSinceEpoch >= 0
            ? instant.microsecondsSinceEpoch / 1_000_000 : (instant.microsecondsSinceEpoch - 999_999) / 1_000_000
        // The last transition at or before `seconds`.
        var low = 0, high = transitions.count
        while low < high {
            let mid = (low + high) / 2
            if transitions[mid] <= seconds { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? initialOffset : offsets[low - 1]
    }

    /// The local calendar date, weekday and minute of day at `instant` in this zone.
    public func localTime(at instant: Timestamp) -> LocalTime {
        let shifted = instant + .seconds(Int64(offset(at: instant)))
        let fields = shifted.utc
        let micros = shifted.microsecondsSinceEpoch
        let seconds = micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        // 1970-01-01 was a Thursday: Monday is 0.
        let weekday = Weekday.allCases[Int(((days + 3) % 7 + 7) % 7)]
        return LocalTime(
            date: LocalDate(year: Int(fields.year), month: Int(fields.month), day: Int(fields.day)),
            weekday: weekday, minuteOfDay: Int(fields.hour * 60 + fields.minute))
    }
}

/// A day of the week, Monday first (ISO 8601).
public enum Weekday: String, CaseIterable, Sendable, Hashable, Comparable {
    case monday = "mon", tuesday = "tue", wednesday = "wed", thursday = "thu", friday = "fri", saturday = "sat", sunday = "sun"

    public var index: Int { Self.allCases.firstIndex(of: self)! }
    public var short: String { rawValue.prefix(1).uppercased() + rawValue.dropFirst() }

    public static func < (lhs: Weekday, rhs: Weekday) -> Bool { lhs.index < rhs.index }
}

/// A calendar date in some zone, e.g. a holiday.
public struct LocalDate: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var year: Int, month: Int, day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// Reads `2026-12-31`; nil for anything else or a day the month does not have.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), (1...12).contains(m) else { return nil }
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[m - 1]).contains(d) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var description: String {
        "\(Timestamp.pad(Int64(year), 4))-\(Timestamp.pad(Int64(month), 2))-\(Timestamp.pad(Int64(day), 2))"
    }

    public static func < (lhs: LocalDate, rhs: LocalDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// Wall-clock time in a zone, to the minute.
public struct LocalTime: Hashable, Sendable, CustomStringConvertible {
    public var date: LocalDate
    public var weekday: Weekday
    public var minuteOfDay: Int

    public init(date: LocalDate, weekday: Weekday, minuteOfDay: Int) {
        self.date = date
        self.weekday = weekday
        self.minuteOfDay = minuteOfDay
    }

    public var clock: String { "\(Timestamp.pad(Int64(minuteOfDay / 60), 2)):\(Timestamp.pad(Int64(minuteOfDay % 60), 2))" }
    public var description: String { "\(weekday.short) \(date) \(clock)" }
}
