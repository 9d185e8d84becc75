import CallTrackCore
import Foundation

extension ZoneOffsets {
    /// The offsets of an IANA zone (`Europe/Moscow`) from the system's time zone data, 1970 to 2100;
    /// nil when the zone is unknown.
    public static func iana(_ identifier: String) -> ZoneOffsets? {
        guard let zone = TimeZone(identifier: identifier) else { return nil }
        let start = Date(timeIntervalSince1970: 0)
        let end = Date(timeIntervalSince1970: 4_102_444_800) // 2100-01-01
        var transitions: [(at: Int64, offset: Int32)] = []
        var cursor = start
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next < end, transitions.count < 2000 {
            transitions.append((Int64(next.timeIntervalSince1970.rounded()), Int32(zone.secondsFromGMT(for: next))))
            cursor = next
        }
        return ZoneOffsets(identifier: identifier, initialOffset: Int32(zone.secondsFromGMT(for: start)), transitions: transitions)
    }
}
