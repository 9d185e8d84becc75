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
        // The stream ends when the AMI client stops, which it does before this service is told to (services stop in
        // reverse order). Returning then would end a service the group has not stopped yet, which it reports as
        // an unexpected end (the daemon would exit 1): wait for this service's own turn.
        for await call in calls {
            await leads.callback(call)
            await onHandled(call)
        }
        try? await gracefulShutdown()
    }
}
