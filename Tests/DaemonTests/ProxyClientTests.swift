import CallTrackApp
import CallTrackCore
import Foundation
import FoundationNetworking
import Prometheus
import Store
import Testing
import TestSupport

/// Behind nginx every request comes from the proxy's address: without `http.trusted_proxies` the per-IP
/// flood guard would give every visitor after the first burst the default number.
@Suite("Clients behind a proxy, through a real socket")
struct ProxyClientTests {
    static let visitors = 1_000

    /// A daemon with a pool big enough for every visitor, listening on loopback.
    static func start(_ dir: TemporaryDirectory, trusting proxies: [String]) async throws -> (Daemon, Int, Task<Void, any Error>) {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.api.trustedProxies = TrustedProxies(proxies.map { IPNetwork($0)! })
        let numbers = try (0..<(visitors + 50)).map { try PhoneNumber.e164("+7495\(1_000_000 + $0)") }
        config.sites = [Site(id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"), pools: [Pool(id: "main", numbers: numbers)])]
        // A clock that stands still: the flood guard's per-minute refill never tops up the burst, however long the
        // requests take on a loaded machine (on the wall clock a slow full run let 41 through).
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), clock: ManualClock(),
                                           logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        return (daemon, port, running)
    }

    /// One visit whose proxy says it came from `forwardedFor`; the answer's `kind` (pool, fallback, …).
    static func allocate(port: Int, visitor: Int, forwardedFor: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0", forHTTPHeaderField: "User-Agent")
        request.setValue(forwardedFor, forHTTPHeaderField: "X-Forwarded-For")
        let id = String(format: "%06d", visitor)
        request.httpBody = Data(#"{"site":"acme","session_id":"sess_proxy\#(id)","visitor_id":"vis_proxy\#(id)"}"#.utf8)
        let (data, _) = try await OpenAPIConformance.data(for: request)
        let answer = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        return answer?["kind"] as? String ?? "?"
    }

    static func address(_ visitor: Int) -> String { "198.51.\(visitor / 250).\(visitor % 250 + 1)" }

    @Test("behind a trusted proxy, 1,000 visitors from distinct addresses all get pool numbers; each session keeps its client's network")
    func trustedProxy() async throws {
        let dir = TemporaryDirectory("proxy-trusted")
        defer { dir.remove() }
        let (daemon, port, running) = try await Self.start(dir, trusting: ["127.0.0.1", "::1"])
        defer { running.cancel() }
        var kinds: [String: Int] = [:]
        for visitor in 0..<Self.visitors {
            // The proxy appends the address it saw; a client may have sent its own header before it.
            let hops = "203.0.113.250, \(Self.address(visitor))"
            kinds[try await Self.allocate(port: port, visitor: visitor, forwardedFor: hops), default: 0] += 1
        }
        #expect(kinds == ["pool": Self.visitors])
        let session = try #require(try await daemon.store.session(SessionID("sess_proxy000300")))
        #expect(session.clientNetwork == "198.51.1.0/24", "the client's network, not the proxy's or the spoofed hop's")
    }

    @Test("a peer that is not a trusted proxy cannot spoof X-Forwarded-For: the flood guard still sees one address")
    func untrustedPeer() async throws {
        let dir = TemporaryDirectory("proxy-untrusted")
        defer { dir.remove() }
        let (daemon, port, running) = try await Self.start(dir, trusting: ["10.0.0.0/8"])
        defer { running.cancel() }
        var kinds: [String: Int] = [:]
        for visitor in 0..<100 {
            kinds[try await Self.allocate(port: port, visitor: visitor, forwardedFor: Self.address(visitor)), default: 0] += 1
        }
        #expect((kinds["pool"] ?? 0) <= 40, "the per-IP burst, not one per spoofed address: \(kinds)")
        #expect((kinds["pool"] ?? 0) >= 20)
        let session = try #require(try await daemon.store.session(SessionID("sess_proxy000001")))
        #expect(session.clientNetwork == "127.0.0.0/24")
    }
}
