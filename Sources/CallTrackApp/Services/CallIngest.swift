import AMI
import AMIClient
import CallTrackCore
import Logging
import ServiceLifecycle

/// Takes every call event from the AMI client and hands it to the lead desk, which stores the call (ringing,
/// answered, ended) together with its lead in one transaction, and retries while the store refuses: a call is
/// never dropped because the disk was briefly busy.
struct CallIngest: Service {
    let events: AsyncStream<CallEvent>
    let leads: LeadDesk
    let logger: Logger
    /// Called after each call change is stored (tests listen here).
    var onStored: @Sendable (CallRecord) async -> Void = { _ in }

    func run() async throws {
        // Not cancelled on graceful shutdown: the AMI client finishes the stream when it stops,
        // and the events already received are stored first.
        for await event in events {
            let record = event.record
            await leads.handle(record)
            await onStored(record)
            log(event, record)
        }
        // The stream ended because the client stopped, before this service's turn to stop: wait for it, or the group
        // reports an unexpected end and the daemon exits 1.
        try? await gracefulShutdown()
    }

    private func log(_ event: CallEvent, _ record: CallRecord) {
        logger.info("call \(Self.verb(event))", metadata: [
            "call": "\(record.id)", "number": "\(record.trackingNumber?.e164 ?? record.dialled)",
            "caller": "\(record.caller?.e164 ?? record.callerRaw)", "disposition": "\(record.disposition ?? "-")",
        ])
    }

    static func verb(_ event: CallEvent) -> String {
        switch event {
        case .started: "ringing"
        case .answered: "answered"
        case .ended: "ended"
        }
    }
}
