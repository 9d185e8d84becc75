import CallTrackApp
import CallTrackCore
import Destinations
import Foundation
import Logging
import Store
import TestSupport
import WebhookSender
import Webhooks

let webhookSecret = Array("test-secret-0123456789abcdef".utf8)

/// A matched lead of site `acme` (or `site`), answered from revision 2 on.
func lead(_ n: Int, revision: Int64 = 1, site: String = "acme", at time: Timestamp) -> Lead {
    let touch = Touch(sessionID: "s-\(n)", at: time - .seconds(60), channel: .paidSearch, source: "google", medium: "cpc")
    return Lead(
        callID: "call-\(n)", revision: revision, siteID: site, trackingNumber: try! PhoneNumber.e164("+74950000001"),
        caller: try! PhoneNumber.e164("+7916000\(String(format: "%04d", n % 10_000))"), callerName: "Ivan",
        startedAt: time, disposition: revision > 1 ? .answered : .ringing, talkSeconds: Int(revision - 1) * 30,
        match: Match(kind: .exact, sessionID: "s-\(n)", visitorID: "v-\(n)", confidence: 1, candidateCount: 1, rule: "single live lease"),
        visitorID: "v-\(n)", userAgent: "Mozilla/5.0", firstTouch: touch, lastTouch: touch, journey: [touch],
        changedAt: time + .milliseconds(Int64(revision)))
}

/// A webhook endpoint's delivery from a temp SQLite state to a receiver: the real outbox, the real delivery loop,
/// the real HTTPS client; retries sleep on the test's manual clock, with jitter r = 1 (each delay its schedule's
/// upper bound: 1 s, 2 s, 4 s, …).
struct WebhookRig {
    let directory: TemporaryDirectory
    let store: SQLiteStore
    let ledger: LeadLedger
    let clock: ManualClock
    let endpoint: WebhookEndpoint
    let client: WebhookHTTPClient
    let destination: WebhookDestination
    let log: CapturedLogs

    init(receiverURL: String, trusting certificate: String, directory: TemporaryDirectory, clock: ManualClock,
         concurrency: Int = 8, deadLetterAfter: Int = 10) async throws {
        self.directory = directory
        self.clock = clock
        store = try SQLiteStore(path: directory.file("state.sqlite"), logger: Logger(label: "test.store"))
        ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        var endpoint = WebhookEndpoint(id: "crm", sites: ["acme"], url: try WebhookURL(receiverURL), secret: webhookSecret)
        endpoint.caFile = certificate
        endpoint.concurrency = concurrency
        endpoint.deadLetterAfter = deadLetterAfter
        endpoint.retry = RetrySchedule(initial: .seconds(1), maximum: .seconds(60))
        self.endpoint = endpoint
        log = CapturedLogs(level: .info)
        client = WebhookHTTPClient(endpoint: endpoint, trustRoots: try await WebhookHTTPClient.trustRoots(file: certificate))
        destination = WebhookDestination(endpoint: endpoint, client: client, clock: clock, jitter: { 1 },
                                         leadJSON: Daemon.leadJSON, logger: log.logger)
    }

    /// A delivery loop for the endpoint (its cursor in the state database: a second one resumes where the first stopped).
    func delivery() -> DestinationDelivery<WebhookDestination> {
        DestinationDelivery(destination: destination, ledger: ledger, clock: clock,
                            configuration: DeliveryConfiguration(start: .beginning), logger: log.logger)
    }

    /// Stores the leads as the daemon does, each with its outbox entry; returns the entries' ids.
    @discardableResult
    func store(_ leads: [Lead]) async throws -> [Int64] { try await ledger.store(leads, at: clock.now()) }

    /// The config `calltrackd webhooks` reads: this rig's data folder and endpoint.
    var config: AppConfig {
        var config = AppConfig()
        config.dataDirectory = directory.path
        config.webhooks = [endpoint]
        return config
    }

    func close() async {
        await client.shutdown()
        directory.remove()
    }
}

/// Runs `delivery` until `body` returns, then stops it and waits for it.
func running<T>(_ delivery: DestinationDelivery<WebhookDestination>, _ body: () async throws -> T) async throws -> T {
    let task = Task { try await delivery.run() }
    defer { task.cancel() }
    let result = try await body()
    task.cancel()
    try await task.value
    return result
}

/// Waits (bounded) until the delivery has done every entry up to `id`.
func waitUntilDone(_ delivery: DestinationDelivery<WebhookDestination>, through id: Int64, _ what: String) async throws {
    try await within(.seconds(60), waitingFor: what) { await delivery.waitUntilDone(through: id) }
}
