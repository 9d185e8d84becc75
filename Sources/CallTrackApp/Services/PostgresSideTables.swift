import CallTrackCore
import Logging
import PostgresSink
import ServiceLifecycle

/// The PostgreSQL tables calltrackd shares with connectors beside the lead delivery, kept every `interval`:
/// - `outcome_report` in: outcomes a connector wrote there are recorded with their leads
///   (`LeadStore.record(_:for:at:)`, as `POST /v1/admin/leads/{call_id}/outcome` does), each row settled only after
///   the lead stored it;
/// - `ad_cost` out: imported costs not copied yet are copied (PostgreSQL down only delays them);
/// - `setting` out, once: what the views need to know of the daemon's config (the callback window).
/// It migrates the schema itself first: it starts beside the lead delivery, which may not have yet.
struct PostgresSideTables: Service {
    let reports: PostgresOutcomeReports
    let costsOut: PostgresAdCosts
    let leads: any LeadStore
    let costs: any AdSpend
    let clock: any WallClock
    let interval: Duration
    let settings: [String: String]
    let logger: Logger

    static let batch = 100

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var prepared = false
            while !Task.isCancelled {
                var busy = false
                do {
                    if !prepared {
                        try await reports.prepare(settings: settings)
                        prepared = true
                    }
                    busy = try await takeReports() == Self.batch
                    busy = try await copyCosts() == Self.batch || busy
                } catch {
                    logger.warning("PostgreSQL's outcome_report and ad_cost not kept up; will try again",
                                   metadata: ["error": "\(error)", "retry_in": "\(interval)"])
                }
                if !busy { try? await clock.sleep(for: interval) }
            }
        }
    }

    /// Records the outcome reports waiting now; returns how many were taken.
    func takeReports() async throws -> Int {
        let waiting = try await reports.waiting(limit: Self.batch)
        for report in waiting {
            let result: String
            do {
                let outcome = try DealOutcome.reported(stage: report.stage, amount: report.amount, currency: report.currency,
                                                       crmDealID: report.crmDealID, at: report.occurredAt, by: "postgres")
                switch try await leads.record(outcome, for: report.callID, at: clock.now()) {
                case .recorded: result = "recorded"
                case .unchanged: result = "unchanged"
                case .noLead: result = "no_lead"
                }
            } catch let problem as OutcomeProblem {
                result = "refused: \(problem.description)"
            }
            try await reports.settle(report.id, result: result)
            logger.info("outcome report taken", metadata: ["call": "\(report.callID)", "stage": "\(report.stage)", "result": "\(result)"])
        }
        return waiting.count
    }

    /// Copies the costs waiting now; returns how many.
    func copyCosts() async throws -> Int {
        let waiting = try await costs.waiting(limit: Self.batch)
        guard !waiting.isEmpty else { return 0 }
        try await costsOut.upsert(waiting)
        try await costs.synced(waiting, at: clock.now())
        logger.info("ad costs copied to PostgreSQL", metadata: ["rows": "\(waiting.count)"])
        return waiting.count
    }
}
