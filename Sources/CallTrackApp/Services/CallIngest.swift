import AMI
import AMIClient
import CallTrackCore
import Logging
import ServiceLifecycle

/// Takes every call event from the AMI client and stores the call (ringing, answered, ended) — through the
/// lead desk, which stores a tracked call together with its lead. A store that refuses is retried: a call is
/// never dropped because the disk was briefly busy.
struct CallIngest: Service {
    let events: AsyncStream<CallEvent>
    let store: any StateStore
    let leads: LeadDesk?
    let logger: Logger
    /// Called after each call change is stored (tests and, later, the lead pipeline listen here).
    var onStored: @Sendable (CallRecord) async -> Void = { _ in }

    func run() async throws {
        // Not cancelled on graceful shutdown: the AMI client finishes the stream when it stops,
        // and the events already received are stored first.
        for await event in events {
            await store(event)
        }
    }

    private func store(_ event: CallEvent) async {
        let record = event.record
        if let leads {
            await leads.handle(record)
            await onStored(record)
            log(event, record)
            return
        }
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await store.apply([.call(record)])
                break
            } catch {
                logger.warning("call not stored yet, retrying", metadata: ["call": "\(record.id)", "error": "\(error.description)"])
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(5))
            }
        }
        await onStored(record)
        log(event, record)
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
