import CallTrackCore
import Foundation
import Testing
import TestSupport

@Suite("Timestamp calendar fields")
struct TimestampCalendarTests {
    @Test("ISO 8601 text agrees with Foundation's calendar for 10,000 random instants from 1900 to 2200")
    func agreesWithFoundation() {
        var random = SeededRandom(seed: 7)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        for _ in 0..<10_000 {
            let micros = Int64.random(in: -2_208_988_800_000_000...7_258_118_400_000_000, using: &random)
            let t = Timestamp(microsecondsSinceEpoch: micros)
            let date = Date(timeIntervalSince1970: Double(micros.floorDiv(1_000_000)))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
            #expect(t.iso8601 == expected, "\(micros)")
            #expect(t.utc.microsecond == micros - micros.floorDiv(1_000_000) * 1_000_000)
        }
    }

    @Test("edges: the epoch, a leap day, the last microsecond before the epoch")
    func edges() {
        #expect(Timestamp.epoch.iso8601 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(secondsSinceEpoch: 951_782_400).iso8601 == "2000-02-29T00:00:00Z")
        let before = Timestamp(microsecondsSinceEpoch: -1).utc
        #expect([before.year, before.month, before.day, before.hour, before.minute, before.second, before.microsecond] == [1969, 12, 31, 23, 59, 59, 999_999])
    }
}

extension Int64 {
    fileprivate func floorDiv(_ d: Int64) -> Int64 { self >= 0 ? self / d : (self - d + 1) / d }
}
