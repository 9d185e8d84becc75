import CallTrackCore
import Foundation
import Testing
import TestSupport

@Suite("Timestamps")
struct TimestampTests {
    @Test("arithmetic with durations is exact to the microsecond")
    func arithmetic() {
        let t = Timestamp.seconds(1_700_000_000)
        #expect((t + .seconds(90)).microsecondsSinceEpoch == 1_700_000_090_000_000)
        #expect((t - .milliseconds(1)).microsecondsSinceEpoch == 1_699_999_999_999_000)
        #expect((t + .seconds(90)) - t == .seconds(90))
        #expect(t - (t + .seconds(1)) == .seconds(-1))
        #expect(t + .nanoseconds(999) == t)  // truncated to whole microseconds
        #expect(Duration.seconds(-1.5).microseconds == -1_500_000)
        #expect(Duration.seconds(2.25).secondsDouble == 2.25)
    }

    @Test("seconds and milliseconds views, ordering, JSON")
    func views() throws {
        let t = Timestamp(secondsSinceEpoch: 1_700_000_000.123456)
        #expect(t.microsecondsSinceEpoch == 1_700_000_000_123_456)
        #expect(t.millisecondsSinceEpoch == 1_700_000_000_123)
        #expect(Timestamp.epoch < t)
        #expect(try JSONDecoder().decode([Timestamp].self, from: JSONEncoder().encode([t])) == [t])
    }
}
