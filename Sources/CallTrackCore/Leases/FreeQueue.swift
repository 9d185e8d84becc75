import DequeModule
import HeapModule

/// Free numbers in the order SPEC §Allocation 3 hands them out: least recently released first,
/// equal release times in the order the numbers joined the pool.
///
/// Releases mostly arrive in time order (leases end by deadline, in order), so they are
/// appended to a FIFO ring and popped from its head: sequential memory, O(1). A release that
/// would break the ring's order (an undo, a restore, a number added or brought back, equal
/// times out of slot order) goes to a small side heap instead; the head of the queue is the
/// smaller of the two heads. Entries are not removed when their number is leased otherwise
/// (stickiness): the allocator drops an entry that no longer matches its number when it
/// reaches the head.
///
///     releases at  10  20  15  30       ring: 10 20 30   side heap: 15
///     pops         10  15  20  30       (ring head vs heap head, the smaller first)
struct FreeQueue: Sendable {
    struct Entry: Comparable, Sendable {
        var releasedAt: Int64
        var slot: Int32
        static func < (a: Self, b: Self) -> Bool { (a.releasedAt, a.slot) < (b.releasedAt, b.slot) }
    }

    /// Ascending: every entry is at least the one before it.
    private var ring = Deque<Entry>()
    private var outOfOrder = Heap<Entry>()

    init() {}

    /// A queue holding `entries`, in any order.
    init(_ entries: [Entry]) {
        ring = Deque(entries.sorted())
    }

    var count: Int { ring.count + outOfOrder.count }

    mutating func insert(_ entry: Entry) {
        if let last = ring.last, entry < last {
            outOfOrder.insert(entry)
        } else {
            ring.append(entry)
        }
    }

    /// The least entry.
    var min: Entry? {
        guard let late = outOfOrder.min else { return ring.first }
        guard let first = ring.first else { return late }
        return late < first ? late : first
    }

    /// Removes the least entry (the one `min` names).
    mutating func removeMin() {
        if let late = outOfOrder.min, ring.first.map({ late < $0 }) ?? true {
            outOfOrder.removeMin()
        } else {
            ring.removeFirst()
        }
    }
}
