import CallTrackCore
import Logging
import ServiceLifecycle
import Store

/// Once a day (and once at start), redacts each kind of personal data older than its period
/// (`privacy.redact_after.*`) and forgets visitor identifiers not seen within `privacy.retention`
/// (`LeadLedger.redact`). Redacted leads reach PostgreSQL through the outbox as new revisions.
struct RetentionSweeper: Service {
    let ledger: any PersonalDataStore
    let clock: any WallClock
    let policy: RetentionPolicy
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweep()
                try? await clock.sleep(for: .seconds(86_400))
            }
        }
    }

    func sweep() async {
        do {
            let redacted = try await ledger.redact(policy, at: clock.now(), batchSize: 500)
            if redacted.total > 0 {
                logger.notice("retention: redacted personal data past its period", metadata: [
                    "sessions": "\(redacted.sessions)", "leases": "\(redacted.leases)", "calls": "\(redacted.calls)",
                    "leads": "\(redacted.leads)", "merges": "\(redacted.merges)", "identifiers": "\(redacted.identifiers)",
                ])
            }
        } catch {
            logger.warning("retention sweep failed; will try again tomorrow", metadata: ["error": "\(error.description)"])
        }
    }
}
