/// When a dealer takes calls: open ranges per weekday in the dealer's own time zone, and holidays
/// (local dates) on which it is closed all day.
///
/// ```
/// Europe/Moscow, mon-fri 09:00-18:00, sat 10:00-14:00, holidays 2026-12-31
/// Tue 2026-12-08 10:00 local -> open
/// Thu 2026-12-31 10:00 local -> closed (holiday 2026-12-31)
/// ```
public struct BusinessHours: Hashable, Sendable {
    /// Minutes of the local day, `start` inclusive, `end` exclusive (`end` up to 1440 for midnight).
    public struct Range: Hashable, Sendable, CustomStringConvertible {
        public var start: Int
        public var end: Int

        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }

        /// Reads `09:00-18:00` (end `24:00` allowed); nil if it does not parse or does not run forward.
        public init?(_ text: String) {
            let ends = text.split(separator: "-")
            guard ends.count == 2, let start = Self.minutes(ends[0]), let end = Self.minutes(ends[1]), start < end else { return nil }
            self.init(start: start, end: end)
        }

        static func minutes(_ text: Substring) -> Int? {
            let parts = text.trimmingWhitespaceSubstring().split(separator: ":")
            guard parts.count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
                  (0...24).contains(h), (0...59).contains(m), h * 60 + m <= 1440 else { return nil }
            return h * 60 + m
        }

        public func contains(_ minute: Int) -> Bool { minute >= start && minute < end }

        public var description: String {
            func hhmm(_ m: Int) -> String { "\(Timestamp.pad(Int64(m / 60), 2)):\(Timestamp.pad(Int64(m % 60), 2))" }
            return "\(hhmm(start))-\(hhmm(end))"
        }
    }

    public var zone: ZoneOffsets
    /// Open ranges for each weekday, Monday first; an empty list is a closed day.
    public var weekly: [[Range]]
    public var holidays: Set<LocalDate>

    public init(zone: ZoneOffsets, weekly: [Weekday: [Range]], holidays: Set<LocalDate> = []) {
        self.zone = zone
        self.weekly = Weekday.allCases.map { weekly[$0] ?? [] }
        self.holidays = holidays
    }

    /// Open every minute of every day (a dealer with no hours configured).
    public static func always(in zone: ZoneOffsets = .utc) -> BusinessHours {
        BusinessHours(zone: zone, weekly: Dictionary(uniqueKeysWithValues: Weekday.allCases.map { ($0, [Range(start: 0, end: 1440)]) }))
    }

    /// Whether the dealer is open at `instant`, and the local time that decided it.
    public func status(at instant: Timestamp) -> Status {
        let local = zone.localTime(at: instant)
        if holidays.contains(local.date) { return .closed(local, why: "holiday \(local.date)") }
        if weekly[local.weekday.index].contains(where: { $0.contains(local.minuteOfDay) }) { return .open(local) }
        return .closed(local, why: weekly[local.weekday.index].isEmpty ? "closed on \(local.weekday.short)" : "outside hours")
    }

    public enum Status: Hashable, Sendable {
        case open(LocalTime)
        case closed(LocalTime, why: String)

        public var isOpen: Bool { if case .open = self { true } else { false } }
    }
}

extension Substring {
    func trimmingWhitespaceSubstring() -> Substring {
        var view = self
        while let first = view.first, first.isWhitespace { view = view.dropFirst() }
        while let last = view.last, last.isWhitespace { view = view.dropLast() }
        return view
    }
}
