import ArgumentParser
import CallTrackCore
import Foundation

/// `calltrackd-bench allocator`: the pool allocator alone, no I/O (issue 3, "allocator alone").
///
/// Sessions arrive at a rate that keeps the pool about 80% busy (a lease lives through a
/// ~3 minute visit with pings, then the 20 minute idle TTL, then the 15 minute cooldown); a
/// quarter are returning visitors asking for their previous number; the clock only moves
/// forward, so leases end by idle TTL inside the allocator's own expiry. The timed loop runs
/// prepared batches, so id generation is not part of the figure; every id reaches the allocator
/// as a fresh string, as one decoded from a request would: visitor ids as the snippet makes them
/// (`v_` and 16 characters), session ids of 24 (the longest kept inline). A returning visitor's previous number, which the daemon reads
/// from the visitor's record before it calls the allocator, is read as the batch is prepared.
///
/// Two figures per pool size, from the same run: (a) allocations alone (each with the expiry it
/// triggers, no pings), the figure the issue's target names; (b) the realistic mix, each
/// allocation with 3 pings of visits in progress.
struct AllocatorBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allocator",
        abstract: "Allocations/s of PoolAllocator on pools of 10, 1,000 and 100,000 numbers, and memory after 1,000,000 sessions.",
        discussion: """
            Target: ns per allocation on 100,000 numbers ≤ 1.5 × that on 10; memory after 1,000,000 sessions \
            follows the pool, not the sessions served.

            Two figures per pool size. (a) allocations alone: each allocation with the expiry it triggers, \
            no pings. The issue asks for allocations/s of the allocator alone, so (a) is the figure judged \
            against the 1.5× target. (b) the realistic mix: each allocation with 3 pings of visits in \
            progress, unchanged from earlier runs. A ping looks up a random live session: its cache misses \
            grow with the number of live sessions (about 80% of the pool), so (b) is printed for the \
            whole cost of serving a pool, not held to the target.
            """
    )

    @Option(help: "Allocations timed per pool size, figure and round (after a warm-up that fills the pool).")
    var allocations = 1_000_000

    @Option(help: "Rounds per pool size; the fastest round counts.")
    var rounds = 3

    @Option(help: "Sessions served and expired on the 1,000-number pool for the memory figure.")
    var sessions = 1_000_000

    @Option(parsing: .upToNextOption, help: "Pool sizes to time (the ratio needs 10 and 100000).")
    var sizes = [10, 1_000, 100_000]

    @Flag(help: "Time figure (a) only (for profiling).")
    var allocationsOnly = false

    /// The two figures: (a) allocations alone, judged against the target; (b) with pings.
    private static let allFigures: [(label: String, pings: Int)] = [
        ("(a) allocations alone, no pings", 0),
        ("(b) with \(AllocatorMix.realisticPings) pings per allocation", AllocatorMix.realisticPings),
    ]

    private var figures: [(label: String, pings: Int)] { allocationsOnly ? [Self.allFigures[0]] : Self.allFigures }

    func run() async throws {
        if sessions > 0 { try memory() }  // first, so that its baseline is the bare process
        print("allocator alone (thread CPU time); every allocation comes with the expiry it triggers")
        var best: [Int: [Int: Double]] = [:]  // pings → size → ns
        for round in 1...rounds {
            for size in sizes {
                for figure in figures {
                    var mix = AllocatorMix(poolSize: size, seed: UInt64(round), pingsPerArrival: figure.pings)
                    mix.serve(3 * size + 10_000)  // warm-up: leases, cooldowns and queues in their steady state
                    mix.counts = .init()
                    let elapsed = mix.serve(allocations)
                    let ns = Double(elapsed.microseconds) * 1_000 / Double(allocations)
                    best[figure.pings, default: [:]][size] = min(best[figure.pings]?[size] ?? .infinity, ns)
                    print(String(format: "  round %d  pool %7d  %@: %7.1f ns/allocation  %10.0f allocations/s  %@",
                                 round, size, String(figure.label.prefix(3)), ns, 1e9 / ns, mix.counts.description))
                }
            }
        }
        for figure in figures {
            let times = best[figure.pings]!
            print("\(figure.label):")
            for size in sizes {
                print(String(format: "  pool %7d: %7.1f ns/allocation (best of %d), %10.0f allocations/s", size, times[size]!, rounds, 1e9 / times[size]!))
            }
            guard let large = times[100_000], let small = times[10] else { continue }
            let ratio = large / small
            if figure.pings == 0 {
                print(String(format: "  ratio 100,000 / 10 numbers: %.2f×  (the issue's figure, target ≤ 1.50×: %@)", ratio, ratio <= 1.5 ? "met" : "MISSED"))
            } else {
                print(String(format: "  ratio 100,000 / 10 numbers: %.2f×  (not judged: pings hit random live sessions, whose cache misses grow with the pool)", ratio))
            }
        }
    }

    /// RSS while one 1,000-number pool serves `sessions` sessions: flat after the pool fills.
    private func memory() throws {
        let baseline = try ResidentMemory.bytes()
        var mix = AllocatorMix(poolSize: 1_000, seed: 99, pingsPerArrival: AllocatorMix.realisticPings)
        var served = 0
        var samples: [(Int, Int)] = []
        for checkpoint in [sessions / 10, sessions / 4, sessions / 2, sessions] {
            mix.serve(checkpoint - served)
            served = checkpoint
            samples.append((served, try ResidentMemory.bytes()))
        }
        mix.advance(by: .seconds(24 * 3600))  // everyone has left: every lease ends and cools
        mix.expireAll()
        let end = try ResidentMemory.bytes()
        let mb = { (bytes: Int) in Double(bytes) / 1_048_576 }
        print(String(format: "memory, pool of 1,000: baseline %.1f MB", mb(baseline)))
        for (count, bytes) in samples {
            print(String(format: "  after %8d sessions: RSS %.1f MB (+%.2f MB)", count, mb(bytes), mb(bytes - baseline)))
        }
        print(String(format: "  all expired:            RSS %.1f MB, %d live leases", mb(end), mix.allocator.liveLeaseCount))
        let growth = samples.last!.1 - samples.first!.1
        print(String(format: "growth from %d to %d sessions: %.2f MB (target: flat, < 1 MB: %@)",
                     samples.first!.0, samples.last!.0, mb(growth), growth < 1_048_576 ? "met" : "MISSED"))
    }
}

/// The traffic of the benchmark: arrivals, returning visitors, pings, all from one seed.
struct AllocatorMix {
    var allocator: PoolAllocator
    var now = Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000)
    var counts = Counts()
    private var rng: UInt64
    private let meanGap: Double
    private let visitors: [VisitorID]
    private var lastNumber: [PhoneNumber?]
    private var nextVisitor = 0
    /// How many arrivals back a ping reaches: the visits still in progress (~3 minutes).
    private let window: Int
    private var served: UInt64 = 0

    /// Prepared arrivals: the timed loop only reads these.
    private var ids: [SessionID] = []
    private var previousIDs: [SessionID] = []
    private var visitorIDs: [VisitorID] = []
    private var visitorOf: [Int] = []
    private var returning: [Bool] = []
    private var gaps: [Int64] = []
    private var pings: [SessionID] = []
    /// A returning visitor's previous number, as the daemon reads it from the visitor's record before it
    /// calls the allocator: `lastNumber` as the batch starts, or for a visitor seen earlier in the batch
    /// what that arrival left (`earlier` names it). The timed loop reads these in order, so that the
    /// record lookup (a random access into 4 visitors per number) is not timed as the allocator's.
    private var previousAtStart: [PhoneNumber?] = []
    private var earlier: [Int] = []
    private var numberAfter: [PhoneNumber?] = Array(repeating: nil, count: AllocatorMix.batch)
    private var lastInBatch: [Int: Int] = [:]

    static let batch = 4_096
    /// Pings per allocation in the realistic mix (b).
    static let realisticPings = 3
    private let pingsPerArrival: Int

    struct Counts: CustomStringConvertible {
        var leased = 0, sticky = 0, existing = 0, shared = 0, exhausted = 0
        var description: String {
            let total = max(1, leased + sticky + existing + shared + exhausted)
            let pct = { (n: Int) in String(format: "%.1f%%", 100 * Double(n) / Double(total)) }
            return "leased \(pct(leased)), sticky \(pct(sticky)), exhausted \(pct(exhausted))"
        }
    }

    init(poolSize: Int, seed: UInt64, pingsPerArrival: Int) {
        self.pingsPerArrival = pingsPerArrival
        allocator = PoolAllocator(poolID: "bench", numbers: BenchSite.numbers(poolSize), policy: PoolPolicy())
        rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        // A session occupies its number ~3 min (visit) + 20 min (idle TTL) + 15 min (cooldown).
        let occupancy = Double((3 + 20 + 15) * 60 * 1_000_000)
        meanGap = occupancy / (0.8 * Double(poolSize))
        let visitorCount = 4 * poolSize + 16
        // Shaped as the snippet makes them (`newId('v')` in ct.js): "v_" and 16 base-36 characters.
        visitors = (0..<visitorCount).map {
            let digits = String($0, radix: 36)
            return "v_" + String(repeating: "0", count: 16 - digits.count) + digits
        }
        lastNumber = Array(repeating: nil, count: visitorCount)
        // Visits in progress: the sessions that arrived within the last ~3 minutes.
        window = min(Self.batch, max(4, Int(3 * 60 * 1_000_000 / meanGap)))
    }

    private mutating func random() -> UInt64 {
        rng ^= rng << 13
        rng ^= rng >> 7
        rng ^= rng << 17
        return rng
    }

    private mutating func prepare() {
        swap(&ids, &previousIDs)
        ids.removeAll(keepingCapacity: true)
        visitorIDs.removeAll(keepingCapacity: true)
        visitorOf.removeAll(keepingCapacity: true)
        returning.removeAll(keepingCapacity: true)
        gaps.removeAll(keepingCapacity: true)
        pings.removeAll(keepingCapacity: true)
        previousAtStart.removeAll(keepingCapacity: true)
        earlier.removeAll(keepingCapacity: true)
        lastInBatch.removeAll(keepingCapacity: true)
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        var bytes = Array("s_".utf8) + Array(repeating: UInt8(0), count: 22)
        for _ in 0..<Self.batch {
            served += 1
            // 13 base-36 digits of a bijection of the counter: unique; the rest looks like a snippet id.
            var x = served &* 0x9E37_79B9_7F4A_7C15
            for k in 2..<15 {
                bytes[k] = alphabet[Int(x % 36)]
                x /= 36
            }
            for k in 15..<24 { bytes[k] = alphabet[Int((served &+ UInt64(k)) % 36)] }
            ids.append(String(decoding: bytes, as: UTF8.self))
            let back = random() % 4 == 0
            returning.append(back)
            if back {
                visitorOf.append(Int(random() % UInt64(visitors.count)))
            } else {
                visitorOf.append(nextVisitor)
                nextVisitor = (nextVisitor + 1) % visitors.count
            }
            let u = Double(random() >> 11) / Double(1 << 53)
            gaps.append(Int64(-meanGap * log(1 - u)))
            let v = visitorOf.last!
            visitorIDs.append(Self.fresh(visitors[v]))
            previousAtStart.append(back ? lastNumber[v] : nil)
            earlier.append(lastInBatch[v] ?? -1)
            lastInBatch[v] = ids.count - 1
            for _ in 0..<pingsPerArrival {
                // A visit that arrived up to `window` arrivals ago (this batch or the last).
                let back = ids.count - 2 - Int(random() % UInt64(window))
                let target = back >= 0 ? ids[back] : previousIDs.isEmpty ? ids[0] : previousIDs[max(0, previousIDs.count + back)]
                pings.append(Self.fresh(target))
            }
        }
    }

    /// Serves `count` arrivals; returns the time spent in the allocator loop.
    @discardableResult
    mutating func serve(_ count: Int) -> Duration {
        var elapsed = Duration.zero
        var left = count
        while left > 0 {
            prepare()
            let n = min(left, Self.batch)
            let start = ThreadTime.now()
            for i in 0..<n {
                now = Timestamp(microsecondsSinceEpoch: now.microsecondsSinceEpoch + gaps[i])
                // A new visitor has no previous number; a returning one has what it held last.
                let previous = !returning[i] ? nil : earlier[i] >= 0 ? numberAfter[earlier[i]] : previousAtStart[i]
                numberAfter[i] = previous
                let outcome = allocator.allocate(session: ids[i], visitor: visitorIDs[i], previousNumber: previous, at: now)
                switch outcome {
                case .leased(let lease, let sticky):
                    numberAfter[i] = lease.number
                    if sticky { counts.sticky += 1 } else { counts.leased += 1 }
                case .existing: counts.existing += 1
                case .shared: counts.shared += 1
                case .exhausted: counts.exhausted += 1
                }
                for k in 0..<pingsPerArrival {
                    allocator.touch(session: pings[i * pingsPerArrival + k], at: now)
                }
            }
            elapsed += ThreadTime.now() - start
            for i in 0..<n { lastNumber[visitorOf[i]] = numberAfter[i] }  // in arrival order: the last one stays
            left -= n
        }
        return elapsed
    }

    /// A copy with its own storage, like a string decoded from a request.
    private static func fresh(_ id: String) -> String { String(decoding: Array(id.utf8), as: UTF8.self) }

    mutating func advance(by duration: Duration) { now = now + duration }
    mutating func expireAll() { allocator.expire(upTo: now) }
}

/// CPU time of the calling thread: the figure does not grow when other work on this shared
/// machine takes the core away (cache pollution by that work still shows).
enum ThreadTime {
    static func now() -> Duration {
        var spec = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
        return .seconds(Int64(spec.tv_sec)) + .nanoseconds(Int64(spec.tv_nsec))
    }
}

/// The resident set size of this process, from /proc/self/statm (Linux).
enum ResidentMemory {
    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "cannot read /proc/self/statm (memory figures need Linux)" }
    }

    static func bytes() throws -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { throw Unavailable() }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { throw Unavailable() }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
