#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import HummingbirdCore
import Metrics

/// How many HTTP connections may be open at once: below the process's descriptor limit, with room left for
/// the store, Asterisk, PostgreSQL and the log. At the cap the server stops accepting (new connections wait
/// in the kernel's backlog) until one closes, so the daemon never runs out of descriptors however many
/// clients hold connections open; the idle timeout then frees the slots of those that send nothing.
///
/// ```
/// RLIMIT_NOFILE 1024  -> at most 1024 - 256 = 768 connections
/// RLIMIT_NOFILE 65536 -> at most 10000 (`http.max_connections` sets another cap)
/// ```
public struct ConnectionBudget: AvailableConnectionsDelegate {
    /// Descriptors kept for everything that is not an HTTP connection.
    public static let reservedDescriptors = 256

    public let limit: Int
    private var open = 0
    private let openGauge = Gauge(label: "calltrackd_http_connections")
    private let capReached = Counter(label: "calltrackd_http_connection_cap_reached_total")

    /// `configured` (`http.max_connections`) when set, never above what the descriptor limit allows.
    public init(configured: Int?) {
        let allowed = max(16, Self.descriptorLimit() - Self.reservedDescriptors)
        limit = min(configured ?? 10_000, allowed)
    }

    public mutating func connectionOpened() {
        open += 1
        openGauge.record(open)
        if open == limit { capReached.increment() }
    }

    public mutating func connectionClosed() {
        open -= 1
        openGauge.record(open)
    }

    public func isAcceptingNewConnections() -> Bool {
        open < limit
    }

    /// The soft limit on open descriptors (`ulimit -n`, systemd's `LimitNOFILE`).
    public static func descriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return 1 << 20 }
        return Int(clamping: limit.rlim_cur)
    }
}
