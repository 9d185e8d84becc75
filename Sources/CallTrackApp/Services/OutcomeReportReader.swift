import CallTrackCore
import Logging
import PostgresSink
import ServiceLifecycle

/// Takes the outcomes a connector wrote into PostgreSQL's `outcome_report` table and records each with its lead
/// (`LeadStore.record(_:for:at:)`), like `POST /v1/admin/leads/{call_id}/outcome` does: every `interval`, and
/// again at once while rows keep coming. A row is settled only after the lead stored it; PostgreSQL down only
/// delays the reports.
struct OutcomeReportReader: Service {
    let reports: PostgresOutcomeReports
    let leads: any LeadStore
    let clock: any WallClock
    let interval: Duration
    /// The settings the PostgreSQL views read, written once PostgreSQL answers.
    let settings: [String: String]
    let logger: Logger

    static let batch = 100

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var published = false
            while !Task.isCancelled {
                var taken = 0
                do {
                    if !published {
                        try await reports.prepare(settings: settings)
                        published = true
                    }
                    taken = try await takeWaiting()
                } catch {
                    logger.warning("outcome reports not read from PostgreSQL; will try again",
                                   metadata: ["error": "\(error)", "retry_in": "\(interval)"])
                }
                if taken < Self.batch { try? await clock.sleep(for: interval) }
            }
        }
    }

    /// Records the rows waiting now; returns how many were taken.
    func takeWaiting() async throws -> Int {
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
}
