import AGI
import CallTrackApp
import CallTrackCore
import FastAGI
import Logging
import Metrics
import TestSupport

/// The dealers the socket tests route to: two Moscow dealers (weights 3 and 2, capacity 4 and 2) open
/// round the clock, and a site `acme` owning the tracking number +74950000001 with a default route.
enum RoutingWorld {
    static let trackingNumber = try! PhoneNumber.e164("+74950000001")
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    static func table(capacity: Int? = 4) throws -> RoutingTable {
        let moscow = try PhoneRegion.parse("+7 495")
        return RoutingTable(
            book: try DealerBook([
                Dealer(id: "moscow-north", regions: [moscow], weight: 3, capacity: capacity, targets: ["PJSIP/dealer-12", "Local/200@dealers"]),
                Dealer(id: "moscow-south", regions: [moscow], weight: 2, capacity: capacity.map { $0 / 2 }, targets: ["PJSIP/dealer-13"]),
            ]),
            defaultRoutes: ["acme": "PJSIP/reception"])
    }

    static func router(
        _ desk: RoutingDesk, clock: any WallClock = ManualClock(at: .seconds(1_800_000_000)),
        sticky: (@Sendable (PhoneNumber) async -> String?)? = nil
    ) -> DealerAGIRouter {
        DealerAGIRouter(desk: desk, clock: clock, country: .ru, siteOf: { $0 == trackingNumber ? "acme" : nil }, sticky: sticky)
    }

    /// The deadline is generous by default: a test machine busy with other suites must not turn a decision into the default route.
    static func configuration(headTimeout: Duration = .seconds(30), deadline: Duration = .seconds(10)) -> FastAGIConfiguration {
        var configuration = FastAGIConfiguration()
        configuration.port = 0
        configuration.headTimeout = headTimeout
        // As generous as the deadline: a full parallel test run can hold the client's event loops for seconds.
        configuration.replyTimeout = .seconds(30)
        configuration.deadline = deadline
        return configuration
    }

    /// Runs a FastAGI server on a free port while `body` talks to it, then stops it.
    static func withServer<T: Sendable>(
        router: any AGIRouter, configuration: FastAGIConfiguration = configuration(), metrics: RecordingMetrics = RecordingMetrics(),
        waitingFor what: String, _ body: @escaping @Sendable (Int) async throws -> T
    ) async throws -> T {
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let server = withMetricsFactory(metrics) {
            FastAGIServer(configuration: configuration, router: router, logger: quiet, onListening: { portSink.yield($0) })
        }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await server.run(); return nil }
            group.addTask {
                let port = try await firstElement(ports, within: .seconds(30), waitingFor: "the FastAGI port")
                return try await within(.seconds(120), waitingFor: what) { try await body(port) }
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw StreamEnded(what: "\(what): the server stopped first")
        }
    }
}

/// Forwards to a router and reports each answer it is told was abandoned.
struct ObservedRouter: AGIRouter {
    let inner: any AGIRouter
    let abandonedSink: AsyncStream<AGIAnswer>.Continuation

    func answer(_ environment: AGIEnvironment) async -> AGIAnswer { await inner.answer(environment) }
    func fallback(_ environment: AGIEnvironment) -> AGIAnswer { inner.fallback(environment) }
    func abandoned(_ answer: AGIAnswer) {
        inner.abandoned(answer)
        abandonedSink.yield(answer)
    }
}
