import CallTrackCore
import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (it can serve: store readable, sites loaded), `/metrics`.
struct OpsRoutes {
    let desk: SessionDesk
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<APIContext>) {
        router.get("/healthz") { _, _ in try jsonResponse(["status": "ok"]) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }

    private func ready() async throws -> Response {
        do {
            _ = try await desk.store.session("readyz-probe")
        } catch {
            return try jsonResponse(["status": "not ready", "error": error.description], status: .serviceUnavailable)
        }
        let sites = desk.book.allSites.count
        guard sites > 0 else {
            return try jsonResponse(["status": "not ready", "error": "no site configured: add one to the config file"], status: .serviceUnavailable)
        }
        return try jsonResponse(["status": "ready", "sites": "\(sites)"])
    }
}
