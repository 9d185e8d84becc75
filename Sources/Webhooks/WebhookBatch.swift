import CallTrackCore
import Destinations

/// One lead change to post: its outbox entry (the cursor's unit) and the body, signed when it is sent.
public struct WebhookRequest: Sendable, Hashable {
    public var entryID: Int64
    public var body: [UInt8]

    public init(entryID: Int64, body: [UInt8]) {
        self.entryID = entryID
        self.body = body
    }
}

/// A batch of outbox changes as one endpoint sends them: in lanes, one per lead, each lane in outbox order.
/// Lanes go out side by side (up to the endpoint's concurrency) and a lane's changes one after the other, so a
/// receiver gets each lead's changes in order while a retrying lead does not hold up the others of its batch.
///
/// ```
/// changes: 7 call-a, 8 call-b, 9 call-a, 10 merge:v_1, 11 call-c (site other)
/// lanes:   [7, 9] (call-a), [8] (call-b)          — merges, erasures and other sites' leads are not sent
/// ```
public struct WebhookBatch: Sendable {
    public var lanes: [[WebhookRequest]]
    /// Changes this endpoint does not receive (another site's lead, a visitor merge, an erasure): done at once.
    public var skipped: Int

    public init(lanes: [[WebhookRequest]], skipped: Int) {
        self.lanes = lanes
        self.skipped = skipped
    }

    public var requestCount: Int { lanes.reduce(0) { $0 + $1.count } }

    /// Plans `changes` for `endpoint`: `leadJSON` encodes a lead as the admin API shows it.
    public static func plan(
        _ changes: [LeadChange], for endpoint: WebhookEndpoint, leadJSON: (Lead) -> [UInt8]
    ) -> WebhookBatch {
        var laneOf: [String: Int] = [:]
        var lanes: [[WebhookRequest]] = []
        var skipped = 0
        for change in changes {
            guard let lead = change.lead, endpoint.sites.contains(lead.siteID) else {
                skipped += 1
                continue
            }
            let body = WebhookPayload.leadChange(lead: lead, entry: change.entry, endpoint: endpoint.id, leadJSON: leadJSON(lead))
            let request = WebhookRequest(entryID: change.entry.id, body: body)
            if let lane = laneOf[change.entry.key] {
                lanes[lane].append(request)
            } else {
                laneOf[change.entry.key] = lanes.count
                lanes.append([request])
            }
        }
        return WebhookBatch(lanes: lanes, skipped: skipped)
    }
}
