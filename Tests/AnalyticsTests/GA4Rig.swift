import Analytics
import AnalyticsSender
import CallTrackCore
import DestinationHTTP
import Destinations
import Foundation
import Logging
import Store
import TestSupport

let measurementID = "G-TEST123ABC"
let apiSecret = "test-api-secret-0123"

/// A visit `s-<n>` of visitor `v-<n>` on site `acme`, with a `_ga` client id (and GA4 session id) unless told not to.
func visit(_ n: Int, ga: Bool = true, at time: Timestamp) -> SessionRecord {
    SessionRecord(
        id: "s-\(n)", visitorID: "v-\(n)", siteID: "acme", startedAt: time - .seconds(600), lastActivityAt: time - .seconds(60),
        source: MarketingSource(utmSource: "google", utmMedium: "cpc"), gaClientID: ga ? "\(1_000_000 + n).1789990000" : nil,
        gaSessionID: ga ? "\(1_789_999_000 + n)" : nil, number: try! PhoneNumber.e164("+74950000001"), kind: .pool)
}

/// Lead `call-<n>` matched to visit `s-<n>`: `revision` counts its changes; ended unless `ended` is false.
func lead(
    _ n: Int, revision: Int64 = 1, kind: MatchKind = .exact, ended: Bool = true, junk: JunkReason? = nil,
    outcomes: [DealOutcome] = [], startedAt: Timestamp, now: Timestamp
) -> Lead {
    Lead(
        callID: "call-\(n)", revision: revision, siteID: "acme", trackingNumber: try! PhoneNumber.e164("+74950000001"),
        caller: try! PhoneNumber.e164("+7916000\(String(format: "%04d", n))"), startedAt: startedAt,
        answeredAt: startedAt + .seconds(5), endedAt: ended ? startedAt + .seconds(95) : nil,
        disposition: ended ? .answered : .ringing, talkSeconds: ended ? 90 : 0,
        match: Match(kind: kind, sessionID: "s-\(n)", visitorID: "v-\(n)", confidence: kind == .shared ? 0.5 : 1,
                     candidateCount: kind == .shared ? 2 : 1, rule: "test"),
        visitorID: "v-\(n)", junkReason: junk, outcomes: outcomes, changedAt: now)
}

func won(_ amount: String, at time: Timestamp) -> DealOutcome {
    DealOutcome(stage: .won, amount: try! Money.parse(amount, currency: "RUB"), crmDealID: "deal", at: time, reportedBy: "api")
}

func lost(at time: Timestamp) -> DealOutcome {
    DealOutcome(stage: .lost, at: time, reportedBy: "api")
}

/// A GA4 property's delivery from a temp SQLite state to a local receiver: the real outbox, the real delivery loop,
/// the real HTTP client; retries sleep on the test's manual clock with jitter r = 1 (1 s, 2 s, 4 s, …).
struct GA4Rig {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let ledger: LeadLedger
    let clock: ManualClock
    let property: GA4Property
    let client: DestinationHTTPClient
    let destination: GA4Destination
    let log: CapturedLogs
    /// The store's group-commit writer, as the daemon's `StoreService` runs it (visits and conversion records go through it).
    let writer: Task<Void, Never>

    init(endpoint: String, clock: ManualClock, deadLetterAfter: Int = 10, configure: (inout GA4Property) -> Void = { _ in }) throws {
        directory = TemporaryDirectory("ga4")
        self.clock = clock
        store = try SQLiteStore(path: directory.file("state.sqlite"), logger: Logger(label: "test.store"))
        ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        writer = Task { [store] in await store.run() }
        var property = GA4Property(id: "main", sites: ["acme"], measurementID: measurementID, apiSecret: apiSecret,
                                   endpoint: try DestinationURL(endpoint))
        property.deadLetterAfter = deadLetterAfter
        property.retry = RetrySchedule(initial: .seconds(1), maximum: .seconds(60))
        configure(&property)
        self.property = property
        log = CapturedLogs(level: .info)
        client = GA4Destination.client(for: property)
        destination = GA4Destination(property: property, client: client, log: ledger, clock: clock, jitter: { 1 }, logger: log.logger)
    }

    func delivery() -> DestinationDelivery<GA4Destination> {
        DestinationDelivery(destination: destination, ledger: ledger, clock: clock,
                            configuration: DeliveryConfiguration(start: .beginning), logger: log.logger)
    }

    func visits(_ sessions: [SessionRecord]) async throws { try await store.apply(sessions.map { .session($0) }) }

    @discardableResult
    func store(_ leads: [Lead]) async throws -> [Int64] { try await ledger.store(leads, at: clock.now()) }

    func close() async {
        writer.cancel()
        await writer.value
        await client.shutdown()
        directory.remove()
    }
}

/// Runs `delivery` until `body` returns, then stops it and waits for it.
func running<T>(_ delivery: DestinationDelivery<GA4Destination>, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await delivery.run() }
    defer { task.cancel() }
    let result = try await body()
    task.cancel()
    try await task.value
    return result
}

func waitUntilDone(_ delivery: DestinationDelivery<GA4Destination>, through id: Int64, _ what: String) async throws {
    try await within(.seconds(60), waitingFor: what) { await delivery.waitUntilDone(through: id) }
}
