import HeapModule

/// A lease's place in a time order: its deadline (or last activity), the session's hash for
/// equal times, and the generation of the place, so an entry of an ended lease is known stale.
struct TimedEntry: Comparable, Sendable {
    var time: Int64
    var tie: UInt64
    var place: Int32
    var generation: UInt32
    // Ties broken by the session's hash: the same state always gives the same answer (restore, replays).
    static func < (a: Self, b: Self) -> Bool { (a.time, a.tie, a.place) < (b.time, b.tie, b.place) }
}

/// Live leases by deadline: a timing wheel of one-second buckets, each drained into a small
/// heap when its second comes, so entries leave in exact (time, tie) order to the microsecond.
///
/// A new deadline is appended to the bucket of its second (O(1), and the buckets of the coming
/// seconds stay in cache); only the entries of seconds already reached are ordered, in a heap the
/// size of one second of deadlines. The wheel spans the policy's longest horizon; a deadline
/// beyond it waits in a side heap (`far`), one already reached goes straight to `near`. A bitmap
/// of non-empty buckets lets a quiet pool skip empty seconds without reading them.
///
///     cursor = 12 s: near holds deadlines < 12 s; bucket 12 & mask holds 12.000–12.999 s, …
struct DeadlineQueue: Sendable {
    static let width: Int64 = 1_000_000

    private var buckets: [[TimedEntry]]
    private var occupied: [UInt64]
    /// Every bucket of a second before `cursor` has been moved into `near`.
    private var cursor: Int64 = .min
    private var near = Heap<TimedEntry>()
    private var far = Heap<TimedEntry>()
    private(set) var count = 0

    /// A wheel long enough for deadlines up to `horizon` µs ahead (rounded up to a multiple of
    /// 64 seconds, capped at about 18 hours; farther ones wait in the side heap).
    /// `continuing` keeps the position of the queue it replaces (a rebuild), so its entries land in the wheel.
    init(horizon: Int64, continuing previous: DeadlineQueue? = nil) {
        cursor = previous?.cursor ?? .min
        let seconds = Swift.min(Swift.max(horizon / Self.width + 2, 64), 1 << 16)
        let size = (Int(seconds) + 63) & ~63
        buckets = Array(repeating: [], count: size)
        occupied = Array(repeating: 0, count: size / 64)
    }

    private static func second(_ time: Int64) -> Int64 {
        time >= 0 ? time / width : (time + 1) / width - 1
    }

    mutating func insert(_ entry: TimedEntry) {
        count += 1
        let second = Self.second(entry.time)
        if cursor == .min {
            far.insert(entry)  // before the first expiry: the wheel has no position yet
        } else if second < cursor {
            near.insert(entry)
        } else if second - cursor < Int64(buckets.count) {
            let index = Int(second % Int64(buckets.count) + Int64(buckets.count)) % buckets.count
            buckets[index].append(entry)
            occupied[index >> 6] |= 1 << UInt64(index & 63)
        } else {
            far.insert(entry)
        }
    }

    /// The entry `popDue` returns next if it is due by then, when its second has been reached; nil
    /// when that needs the wheel to turn. For prefetching only.
    var nextReached: TimedEntry? { near.min }

    /// The entries of the seconds reached and not yet popped (the next second or so of deadlines,
    /// in no order), so the caller can load what they name before they come due; `turns` counts
    /// the times new ones joined. For prefetching only.
    var reached: [TimedEntry] { near.unordered }
    private(set) var turns = 0

    /// Removes and returns the least entry whose time is at or before `t`.
    mutating func popDue(upTo t: Int64) -> TimedEntry? {
        let second = Self.second(t)
        if second >= cursor { advance(through: second) }
        guard let top = near.min, top.time <= t else { return nil }
        count -= 1
        return near.removeMin()
    }

    /// Moves the buckets of every second up to `second` into `near`.
    private mutating func advance(through second: Int64) {
        let size = buckets.count
        // The wheel holds seconds in [cursor, cursor + size): past `size` seconds, all of it is due.
        var remaining = cursor == .min ? size : Int(Swift.min(second - cursor + 1, Int64(size)))
        var index = cursor == .min ? 0 : Int(cursor % Int64(size) + Int64(size)) % size
        while remaining > 0 {
            let word = index >> 6
            let span = Swift.min(64 - (index & 63), remaining)
            var bits = occupied[word] >> UInt64(index & 63)
            if span < 64 { bits &= (1 << UInt64(span)) - 1 }
            while bits != 0 {
                drain(index + bits.trailingZeroBitCount)
                bits &= bits - 1
            }
            index = (index + span) % size
            remaining -= span
        }
        cursor = second + 1
        while let top = far.min, Self.second(top.time) < cursor { near.insert(far.removeMin()) }
    }

    private mutating func drain(_ index: Int) {
        for entry in buckets[index] { near.insert(entry) }
        turns &+= 1
        buckets[index].removeAll(keepingCapacity: true)
        occupied[index >> 6] &= ~(1 << UInt64(index & 63))
    }
}
