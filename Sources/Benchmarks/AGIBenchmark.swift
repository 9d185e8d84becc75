import AGI
import ArgumentParser
import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Logging
import Store
import TestSupport

/// FastAGI routing over real sockets: 500 Asterisk-like clients each running sessions (the `agi_*`
/// block, six SET VARIABLE round trips, close), against the server answering with a fixed answer
/// (the baseline: protocol and sockets only), then deciding among 2 dealers, then among 200, then among 200 with
/// the daemon's sticky-dealer lookup (the store's sticky dealers in memory, loaded from a real state database), and
/// for comparison among 200 with a read of that database (SQLite, on its reader pool) per request. 30% of the
/// sessions come from callers with an earlier lead with a dealer, so the lookup finds one.
struct AGIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agi",
        abstract: "FastAGI routing decisions/s and p50/p99 over real sockets with 500 clients, 2 vs 200 dealers, and 200 with the sticky-dealer lookup in memory and with a store read (target p99 ≤ 5 ms, no growth beyond O(log n)).")

    @Option(help: "Concurrent clients.") var clients = 500
    @Option(help: "Sessions per throughput run.") var sessions = 50_000
    @Option(help: "Sessions per second in the latency run (spread over the clients).") var rate = 1000
    @Option(help: "Seconds of each latency run.") var seconds = 10
    @Option(help: "Latency runs per configuration, interleaved; the median is reported.") var rounds = 3
    @Option(help: "Leads with a dealer in the state database besides the returning callers' (memory held by the lookup).") var otherLeads = 100_000

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("calltrackd-agi-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var quiet = Logger(label: "bench")
        quiet.logLevel = .error
        let store = try SQLiteStore(path: dir + "/state.sqlite", logger: quiet)
        print("calltrackd-bench agi: \(clients) clients, \(sessions) sessions for throughput, \(rounds) × \(seconds) s at \(rate)/s for latency, release build")
        try await Self.seed(store, otherLeads: otherLeads)
        let loading = ContinuousClock.now
        try await store.loadStickyDealers()
        print(String(format: "sticky dealers loaded: %d callers in %.2f s (30%% of the sessions' callers have one)",
                     store.stickyDealers.count, (ContinuousClock.now - loading).secondsDouble))
        let decision2 = Self.decisionCost(dealers: 2)
        let decision200 = Self.decisionCost(dealers: 200)
        let decision2000 = Self.decisionCost(dealers: 2000)
        print(String(format: "in-process decision: 2 dealers %.2f µs, 200 dealers %.2f µs (%.2f×), 2000 dealers %.2f µs (%.2f×)",
                     decision2, decision200, decision200 / decision2, decision2000, decision2000 / decision2))

        // Each configuration's latency run is repeated `rounds` times, interleaved with the others, and
        // the median taken: a minute when the machine is busy then moves every configuration alike.
        let configurations: [(String, any AGIRouter, Int)] = [
            ("fixed answer (baseline)", Self.fixedRouter(), 100), ("2 dealers", try Self.router(dealers: 2), Self.areas(dealers: 2)),
            ("200 dealers", try Self.router(dealers: 200), Self.areas(dealers: 200)),
            ("200 dealers + sticky lookup", try Self.router(dealers: 200, sticky: store, inMemory: true), Self.areas(dealers: 200)),
            ("200 dealers + sticky store read", try Self.router(dealers: 200, sticky: store, inMemory: false), Self.areas(dealers: 200)),
        ]
        var throughputs = Array(repeating: 0.0, count: configurations.count)
        var latencies = Array(repeating: [Latency](), count: configurations.count)
        for round in 0..<rounds {
            for (index, (label, router, areas)) in configurations.enumerated() {
                let server = try await Server(router: router)
                if round == 0 { throughputs[index] = try await throughput(port: server.port, router: router, areas: areas) }
                let latency = try await latency(port: server.port, router: router, areas: areas)
                server.stop()
                latencies[index].append(latency)
                print(String(format: "  round %d, %@: decision wait p50 %.2f ms, p99 %.2f ms; whole session p99 %.2f ms, max %.2f ms",
                             round + 1, label, latency.firstLine.p50, latency.firstLine.p99, latency.total.p99, latency.total.max))
            }
        }
        var medians: [Double] = []
        for (index, (label, _, _)) in configurations.enumerated() {
            let p99s = latencies[index].map(\.firstLine.p99).sorted()
            let p50s = latencies[index].map(\.firstLine.p50).sorted()
            let wholes = latencies[index].map(\.total.p99).sorted()
            medians.append(p99s[p99s.count / 2])
            print(String(format: "%@: %.0f sessions/s (%d clients back to back); at %d/s, median of %d runs: decision wait p50 %.2f ms, p99 %.2f ms (runs %@); whole session p99 %.2f ms",
                         label, throughputs[index], clients, rate, rounds, p50s[p50s.count / 2], p99s[p99s.count / 2],
                         p99s.map { String(format: "%.2f", $0) }.joined(separator: ", "), wholes[wholes.count / 2]))
        }
        print(String(format: "ratios: 2 dealers %.2f× the baseline's throughput, 200 dealers %.2f× the 2 dealers'; median p99 decision wait 200 vs 2 dealers %.2f×",
                     throughputs[1] / throughputs[0], throughputs[2] / throughputs[1], medians[2] / max(medians[1], 0.001)))
        print(String(format: "sticky lookup: 200 dealers with it %.2f× the throughput without, median p99 decision wait %.2f×",
                     throughputs[3] / throughputs[2], medians[3] / max(medians[2], 0.001)))
        print(String(format: "sticky store read (each request reads SQLite): %.2f× the throughput without, median p99 decision wait %.2f×",
                     throughputs[4] / throughputs[2], medians[4] / max(medians[2], 0.001)))
        let worst = medians[1...3].max() ?? 0
        print(String(format: "target p99 decision wait ≤ 5 ms: %@ (%.2f ms, median over runs)", worst <= 5 ? "MET" : "MISSED", worst))
    }

    /// A FastAGI server on a free port for one measurement.
    struct Server {
        let port: Int
        let task: Task<Void, any Error>

        init(router: any AGIRouter) async throws {
            var logger = Logger(label: "bench")
            logger.logLevel = .error
            var configuration = FastAGIConfiguration()
            configuration.port = 0
            let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
            let server = FastAGIServer(configuration: configuration, router: router, logger: logger, onListening: { portSink.yield($0) })
            task = Task { try await server.run() }
            port = try await firstElement(ports, within: .seconds(30), waitingFor: "the FastAGI port")
        }

        func stop() { task.cancel() }
    }

    struct Percentiles {
        var p50: Double, p99: Double, max: Double
        init(_ values: [Duration]) {
            let sorted = values.map { Double($0.components.seconds) * 1000 + Double($0.components.attoseconds) / 1e15 }.sorted()
            func at(_ p: Double) -> Double { sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
            p50 = at(0.5)
            p99 = at(0.99)
            max = sorted.last ?? .nan
        }
    }

    struct Latency {
        var firstLine: Percentiles
        var total: Percentiles
    }

    static func heads(areas: Int) -> [[UInt8]] {
        (0..<1000).map { Array(AsteriskAGI.environment(uniqueID: "1733650000.\($0)", callerID: caller($0, areas: areas)).utf8) }
    }

    /// Sessions/s with every client running sessions back to back.
    func throughput(port: Int, router: any AGIRouter, areas: Int) async throws -> Double {
        let heads = Self.heads(areas: areas)
        let counter = Locked(0)
        let total = sessions
        let clients = self.clients
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var index = client
                    while counter.withLock({ (n: inout Int) -> Bool in n += 1; return n <= total }) {
                        let exchange = try await AsteriskAGI.session(port: port, head: heads[index % heads.count], from: Self.source(index))
                        router.release(exchange)
                        index += clients
                    }
                }
            }
            try await group.waitForAll()
        }
        return Double(total) / (ContinuousClock.now - started).secondsDouble
    }

    /// Sessions at a steady rate, each client starting its next one on its own schedule.
    func latency(port: Int, router: any AGIRouter, areas: Int) async throws -> Latency {
        let heads = Self.heads(areas: areas)
        let clients = self.clients
        let perClient = Duration.seconds(1) * clients / rate
        let rounds = rate * seconds / clients
        let samples = Locked<[(Duration, Duration)]>([])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var next = ContinuousClock.now + perClient * Double(client) / Double(clients)
                    for round in 0..<rounds {
                        try await Task.sleep(until: next, clock: .continuous)
                        let index = client + round * clients
                        let exchange = try await AsteriskAGI.session(port: port, head: heads[index % heads.count], from: Self.source(index))
                        router.release(exchange)
                        if let first = exchange.firstLine, let whole = exchange.total { samples.withLock { $0.append((first, whole)) } }
                        next += perClient
                    }
                }
            }
            try await group.waitForAll()
        }
        let measured = samples.value
        return Latency(firstLine: Percentiles(measured.map(\.0)), total: Percentiles(measured.map(\.1)))
    }

    /// Connections come from 127.0.0.2 … 127.0.0.251 in turn (see `AsteriskAGI.session(from:)`).
    static func source(_ index: Int) -> String { "127.0.0.\(2 + index % 250)" }

    /// Callers from `areas` Russian area codes (+7 300 …), one per session in turn: every caller has a dealer.
    static func caller(_ index: Int, areas: Int) -> String { "+7\(300 + index % areas)\(String(1_000_000 + index).suffix(7))" }

    /// Area codes the dealers cover: two dealers in each (so every configuration answers a session with
    /// a dealer and one failover dealer, the same number of SET VARIABLEs).
    static func areas(dealers count: Int) -> Int { min(600, max(1, count / 2)) }  // +7 300 … +7 899

    /// `count` dealers, two per area code (+7 300 …), priorities 1 and 2, weights 1–5, capacity 1,000 (never full here), all open.
    static func book(dealers count: Int) throws -> DealerBook {
        let areaCount = Self.areas(dealers: count)
        return try DealerBook((0..<count).map { index in
            Dealer(id: "dealer-\(index)", regions: [try! PhoneRegion.parse("+7 \(300 + index % areaCount)")], priority: 1 + index / areaCount % 2,
                   weight: 1 + index % 5, capacity: 1000, targets: ["PJSIP/dealer-\(index)", "Local/\(index)@dealers"])
        })
    }

    /// With `sticky`, each request first asks who handled the caller before, as the daemon does
    /// (`Daemon.fastAGIServer`): `inMemory`, the store's sticky dealers (a read only when memory cannot tell);
    /// else a read of the store for every request.
    static func router(dealers count: Int, sticky store: SQLiteStore? = nil, inMemory: Bool = true) throws -> any AGIRouter {
        let desk = RoutingDesk(routes: RoutingTable(book: try book(dealers: count), defaultRoutes: ["bench": "PJSIP/reception"]))
        let number = try PhoneNumber.e164("+74950000001")
        let clock = SystemClock()
        var lookup: (@Sendable (PhoneNumber) async -> String?)?
        var known: (@Sendable (PhoneNumber, Timestamp) -> StickyDealers.Answer)?
        if let store {
            let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
            lookup = { caller in try? await ledger.stickyDealer(caller: caller, before: clock.now()) }
            if inMemory {
                let memory = store.stickyDealers
                known = { caller, at in memory.answer(for: caller, before: at) }
            }
        }
        return DealerAGIRouter(desk: desk, clock: clock, country: .ru, siteOf: { $0 == number ? "bench" : nil }, sticky: lookup,
                               knownSticky: known)
    }

    /// Returning callers: 3 in 10 of the sessions' callers (`caller(_:areas:)` over 200 dealers' areas) have a lead
    /// an hour old with their area's second dealer, who then gets them by the sticky rule. `otherLeads` more leads
    /// with dealers, from callers who do not call in the bench, fill the database and memory as a busy site's would.
    static func seed(_ store: SQLiteStore, otherLeads: Int) async throws {
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let number = try PhoneNumber.e164("+74950000001")
        let areas = Self.areas(dealers: 200)
        let now = SystemClock().now()
        let match = Match(kind: .unmatched, confidence: 0, candidateCount: 0, candidates: [], rule: "bench")
        func lead(_ id: String, caller: String, dealer: String, at: Timestamp) throws -> Lead {
            Lead(callID: id, revision: 1, siteID: "bench", trackingNumber: number, caller: try PhoneNumber.e164(caller), callerRaw: caller,
                 startedAt: at, match: match, dealerID: dealer, changedAt: at)
        }
        let returning = try (0..<1000).filter { $0 % 10 < 3 }.map { index in
            try lead("returning-\(index)", caller: caller(index, areas: areas), dealer: "dealer-\(index % areas + areas)", at: now - .seconds(3600))
        }
        try await ledger.store(returning, at: now)
        for chunk in stride(from: 0, to: otherLeads, by: 5000) {
            let leads = try (chunk..<min(otherLeads, chunk + 5000)).map { index in
                try lead("other-\(index)", caller: "+7916\(String(1_000_000 + index).suffix(7))", dealer: "dealer-\(index % 200)",
                         at: now - .seconds(86_400 + index))
            }
            try await ledger.store(leads, at: now)
        }
    }

    static func fixedRouter() -> any AGIRouter { FixedRouter() }

    /// Mean µs per in-process decision (no sockets), callers over the 100 area codes.
    static func decisionCost(dealers count: Int) -> Double {
        let book = try! book(dealers: count)
        var wrr = RoundRobin(dealers: count)
        let callers = (0..<1000).map { try! PhoneNumber.e164(caller($0, areas: Self.areas(dealers: count))) }
        let at = SystemClock().now()
        let rounds = 200_000
        let start = ContinuousClock.now
        var chosen = 0
        for round in 0..<rounds {
            if book.decide(RoutingRequest(site: "bench", caller: callers[round % callers.count], at: at), busy: [], roundRobin: &wrr).dealer != nil { chosen += 1 }
        }
        precondition(chosen == rounds)
        return (ContinuousClock.now - start).secondsDouble * 1e6 / Double(rounds)
    }
}

/// The baseline: the same seven variables every time (as a dealer with a failover dealer gets), no decision.
struct FixedRouter: AGIRouter {
    func answer(_ environment: AGIEnvironment) async -> AGIAnswer {
        AGIAnswer(variables: [.init("CT_LEAD", environment.uniqueID ?? ""), .init("CT_DEALER", "fixed"), .init("CT_DIAL_COUNT", "4"),
                              .init("CT_DIAL", "PJSIP/a"), .init("CT_DIAL_2", "PJSIP/b"), .init("CT_DIAL_3", "PJSIP/c"), .init("CT_DIAL_4", "PJSIP/d")], call: nil)
    }
    func fallback(_ environment: AGIEnvironment) -> AGIAnswer { AGIAnswer(variables: [], call: nil, isFallback: true) }
    func abandoned(_ answer: AGIAnswer) {}
}

extension AGIRouter {
    /// The call ended: the bench gives the dealer's line back as the AMI side will.
    func release(_ exchange: AsteriskAGI.Exchange) {
        if let router = self as? DealerAGIRouter, let call = exchange.variables["CT_LEAD"] { router.desk.release(call: call) }
    }
}
