import CallTrackCore

extension Timestamp {
    /// `2026-11-24 18:31:08.123456+00`: PostgreSQL's `timestamptz` input, exact to the microsecond.
    var postgresText: String {
        let f = utc
        return "\(Self.pad(f.year, 4))-\(Self.pad(f.month, 2))-\(Self.pad(f.day, 2)) \(Self.pad(f.hour, 2)):\(Self.pad(f.minute, 2)):\(Self.pad(f.second, 2)).\(Self.pad(f.microsecond, 6))+00"
    }
}
