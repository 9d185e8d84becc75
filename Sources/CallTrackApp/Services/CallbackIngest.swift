import AMI
import CallTrackCore
import ServiceLifecycle

/// Takes every outbound call the AMI client spots and hands it to the lead desk, which records a dealer's
/// callback to the callers it missed.
struct CallbackIngest: Service {
    let calls: AsyncStream<OutboundCall>
    let leads: LeadDesk
    /// Called after each outbound call is handled (tests listen here).
    var onHandled: @Sendable (OutboundCall) async -> Void = { _ in }

    func run() async throws {
        // Ends when the AMI client finishes the stream as it stops.
        for await call in calls {
            await leads.callback(call)
            await onHandled(call)
        }
    }
}
