import HTTPAPI
import Logging
import ServiceLifecycle
import UnixSignals

/// SIGHUP (`systemctl reload calltrackd`, after a certificate renewal) reads the TLS certificate and key again.
/// Without `http.tls` it is noted and ignored: a reload must never stop the daemon, as SIGHUP's default would.
struct HangupReloader: Service {
    let certificates: TLSCertificates?
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in hangups {
                if let certificates {
                    await certificates.reload(logger: logger)
                } else {
                    logger.notice("SIGHUP: nothing to reload (no http.tls configured)")
                }
            }
        }
    }
}
