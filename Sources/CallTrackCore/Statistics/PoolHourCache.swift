/// The whole hours of each pool's statistics that answers read again and again (a week or a month by the hour),
/// held in memory so that an answer reads from the store only what it does not hold. No I/O: the caller reads,
/// and tells it what it read and what changed.
///
/// Per pool it holds one window of consecutive whole hours, finished (before the hour of `now`) and recent (within
/// `span` of `now`), with the rolled-up bucket of each hour that has one:
///
///     held:     [08:00 ──────────────────── 15:00)      asked: [06:00 ─────────── 12:00)
///     lookup →  held 08:00–11:00, missing [06:00, 08:00)
///     keep(read of [06:00, 08:00)) → held [06:00 ─────── 15:00)
///     added(a minute of 10:xx)     → held [06:00 ── 10:00)
///
/// Minutes added to an hour drop it and every later hour of the window; a compaction drops the hours it rolled
/// up or forgot. Each change bumps `generation`: a read that began before it is not kept, as it may hold the
/// hour as it was.
public struct PoolHourCache: Sendable {
    /// How far back from `now` hours are held; older ones are read each time.
    public let span: Duration
    /// Bumped by every change of the stored hours (`added`, `compacted`).
    public private(set) var generation: UInt64 = 0
    private var windows: [String: Window] = [:]

    struct Window: Sendable {
        /// Whole hours held, [from, to) in microseconds since the epoch; `hours` has those with a bucket.
        var from: Int64
        var to: Int64
        var hours: [Int64: PoolMinute]
    }

    static let hour: Int64 = 3_600_000_000

    public init(span: Duration = .seconds(31 * 86_400)) {
        self.span = span
    }

    /// Of `pool`'s whole hours [from, to) (hour-aligned), the buckets held (in time order) and the ranges to read
    /// from the store (at most two: before and after what is held).
    public func lookup(pool: String, from: Timestamp, to: Timestamp) -> (held: [PoolMinute], missing: [Range<Timestamp>]) {
        let (a, b) = (from.microsecondsSinceEpoch, to.microsecondsSinceEpoch)
        guard a < b else { return ([], []) }
        guard let window = windows[pool], window.from < b, a < window.to else {
            return ([], [from..<to])
        }
        let lower = max(a, window.from), upper = min(b, window.to)
        var held: [PoolMinute] = []
        held.reserveCapacity(Int((upper - lower) / Self.hour))
        var start = lower
        while start < upper {
            if let bucket = window.hours[start] { held.append(bucket) }
            start += Self.hour
        }
        var missing: [Range<Timestamp>] = []
        if a < lower { missing.append(from..<Timestamp(microsecondsSinceEpoch: lower)) }
        if upper < b { missing.append(Timestamp(microsecondsSinceEpoch: upper)..<to) }
        return (held, missing)
    }

    /// Keeps what the store gave for `pool`'s whole hours [from, to) (every bucket it has there), read when
    /// `generation` was `readAt`: unless the hours changed since, the finished and recent part of it joins the
    /// pool's window when it touches it, or replaces it when it does not.
    public mutating func keep(_ buckets: [PoolMinute], pool: String, from: Timestamp, to: Timestamp, readAt: UInt64, now: Timestamp) {
        guard readAt == generation else { return }
        let floor = Self.hourStart(of: (now - span).microsecondsSinceEpoch) + Self.hour
        let lower = max(from.microsecondsSinceEpoch, floor)
        let upper = min(to.microsecondsSinceEpoch, Self.hourStart(of: now.microsecondsSinceEpoch))
        guard lower < upper else { return }
        var window = windows[pool].flatMap { $0.from <= upper && lower <= $0.to ? $0 : nil } ?? Window(from: lower, to: upper, hours: [:])
        window.from = min(window.from, lower)
        window.to = max(window.to, upper)
        for bucket in buckets where bucket.seconds == 3_600 && bucket.start.microsecondsSinceEpoch >= lower && bucket.start.microsecondsSinceEpoch < upper {
            window.hours[bucket.start.microsecondsSinceEpoch] = bucket
        }
        windows[pool] = window.dropping(before: floor)
    }

    /// Minutes were added to the store: their hours, and the later hours of each window, are no longer held.
    public mutating func added(_ buckets: [PoolMinute]) {
        generation &+= 1
        for bucket in buckets {
            guard var window = windows[bucket.poolID] else { continue }
            let hour = Self.hourStart(of: bucket.start.microsecondsSinceEpoch)
            guard window.from <= hour, hour < window.to else { continue }
            if hour == window.from {
                windows[bucket.poolID] = nil
                continue
            }
            window.to = hour
            window.hours = window.hours.filter { $0.key < hour }
            windows[bucket.poolID] = window
        }
    }

    /// The store was compacted as `PoolHistory.compact` does: the hours whose minutes it rolled up (before the
    /// minute cutoff's hour) and the hours it forgot (before `now - hoursKept`) are no longer held.
    public mutating func compacted(now: Timestamp, minutesKept: Duration, hoursKept: Duration) {
        generation &+= 1
        let rolled = Self.hourStart(of: (now - minutesKept).microsecondsSinceEpoch)
        let forgotten = (now - hoursKept).microsecondsSinceEpoch
        // The first whole hour the store still has as it was.
        let kept = max(rolled, Self.hourStart(of: forgotten) + (forgotten % Self.hour == 0 ? 0 : Self.hour))
        windows = windows.compactMapValues { $0.dropping(before: kept) }
    }

    /// The whole hours of [from, to), as `PoolHistory.hours` reads them: from the first hour starting at or after
    /// `from` to the start of `to`'s hour (empty, at the first, when there is none).
    public static func wholeHours(from: Timestamp, to: Timestamp) -> Range<Timestamp> {
        let start = hourStart(of: from.microsecondsSinceEpoch)
        let first = start == from.microsecondsSinceEpoch ? start : start + hour
        return Timestamp(microsecondsSinceEpoch: first)..<Timestamp(microsecondsSinceEpoch: max(first, hourStart(of: to.microsecondsSinceEpoch)))
    }

    /// The start of the hour `microseconds` falls in (UTC).
    static func hourStart(of microseconds: Int64) -> Int64 {
        microseconds - ((microseconds % hour) + hour) % hour
    }
}

extension PoolHourCache.Window {
    /// The window without its hours before `start`; nil when none is left.
    func dropping(before start: Int64) -> Self? {
        guard from < start else { return self }
        guard start < to else { return nil }
        return Self(from: start, to: to, hours: hours.filter { $0.key >= start })
    }
}
