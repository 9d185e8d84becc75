import CallTrackApp
import TestSupport

extension Daemon {
    /// Runs the daemon (HTTP, and AMI when configured) until the returned task is cancelled; returns once it
    /// listens, with the port it bound (`http.port: 0` picks a free one).
    func serving() async throws -> (port: Int, running: Task<Void, any Error>) {
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let running = Task { try await run(onListening: { listening.yield($0) }) }
        let port = try await firstElement(ports, waitingFor: "the daemon's HTTP port")
        return (port, running)
    }
}
