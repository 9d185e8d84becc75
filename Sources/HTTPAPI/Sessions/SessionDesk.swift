import CallTrackCore
import Foundation
import Logging

/// Allocation with durability: asks the lease book, stores the result, and only then answers.
/// If the store refuses, the assignment is undone, so no visitor ever sees an unstored lease.
public struct SessionDesk: Sendable {
    public let book: LeaseBook
    public let store: any StateStore
    public let clock: any WallClock
    public let metrics: APIMetrics
    /// The identifiers of a visit that link visitors (`APISettings.identityLinks`).
    public let identityLinks: Set<VisitorIdentifier.Kind>
    let logger: Logger

    public init(
        book: LeaseBook, store: any StateStore, clock: any WallClock, metrics: APIMetrics,
        identityLinks: Set<VisitorIdentifier.Kind> = VisitorIdentifier.Kind.fromSessions, logger: Logger
    ) {
        self.book = book
        self.store = store
        self.clock = clock
        self.metrics = metrics
        self.identityLinks = identityLinks
        self.logger = logger
    }

    struct Visit {
        var siteID: String
        var sessionID: SessionID
        var visitorID: VisitorID
        var source: MarketingSource
        var userAgent: String?
        var clientIP: String?
        var interacted: Bool
        var doNotTrack: Bool
        var gaClientID: String?
        var ymUID: String?
    }

    /// Allocates or touches; returns the assignment that is now durable.
    func allocate(_ visit: Visit) async throws -> Assignment {
        let now = clock.now()
        do {
            // One hop to the lease book: it touches a live lease of this session, or leases a number.
            let previous = try await store.previousNumber(of: visit.visitorID, site: visit.siteID)
            let request = AllocationRequest(
                siteID: visit.siteID, sessionID: visit.sessionID, visitorID: visit.visitorID, source: visit.source,
                userAgent: visit.userAgent, clientIP: visit.clientIP, interacted: visit.interacted,
                doNotTrack: visit.doNotTrack, previousNumber: previous)
            let assignment = try await book.assign(request, at: now)
            do {
                try await persist(assignment, visit, at: now)
            } catch {
                await book.undo(assignment)
                throw error
            }
            metrics.record(assignment)
            log(assignment, visit)
            return assignment
        } catch {
            throw answerable(error)
        }
    }

    /// Keeps a live lease alive (the snippet's keepalive); nil when the session holds none.
    func ping(siteID: String, sessionID: SessionID) async throws -> Assignment? {
        let now = clock.now()
        do {
            guard let touched = try await book.touch(siteID: siteID, session: sessionID, at: now) else { return nil }
            if let lease = touched.lease { try await store.apply([.lease(lease)]) }
            metrics.touches.increment()
            return touched
        } catch {
            throw answerable(error)
        }
    }

    /// Domain and store failures as the API answers them.
    private func answerable(_ error: any Error) -> any Error {
        switch error {
        case LeaseBook.Failure.unknownSite(let id):
            return APIError(.notFound, "unknown site '\(id)': add it to the config file or through the admin API")
        case let failure as LeaseBook.Failure:
            return APIError(.badRequest, "\(failure)")
        case let failure as StoreUnavailable:
            metrics.storeFailures.increment()
            logger.warning("allocation not stored", metadata: ["error": "\(failure.description)"])
            return APIError(.serviceUnavailable, "the state store cannot take writes right now (\(failure.description)); the page keeps its own number")
        default:
            return error
        }
    }

    /// Bots, floods and DNT visitors leave no trace in the store; everything else is history.
    private func persist(_ assignment: Assignment, _ visit: Visit, at now: Timestamp) async throws {
        if let reason = assignment.reason, [.bot, .rateLimited, .doNotTrack].contains(reason) { return }
        let session = SessionRecord(
            id: visit.sessionID, visitorID: visit.visitorID, siteID: visit.siteID, startedAt: now, lastActivityAt: now,
            source: visit.source, userAgent: visit.userAgent.map { String($0.prefix(SessionRecord.maxUserAgentLength)) },
            clientNetwork: visit.clientIP.map(ClientNetwork.truncate), gaClientID: visit.gaClientID, ymUID: visit.ymUID,
            number: assignment.number, kind: assignment.kind, reason: assignment.reason)
        var writes: [StateWrite] = [.session(session)]
        if let lease = assignment.lease { writes.append(.lease(lease)) }
        for identifier in session.identifiers(linking: identityLinks) { writes.append(.link(identifier, to: visit.visitorID, at: now)) }
        try await store.apply(writes)
    }

    private func log(_ assignment: Assignment, _ visit: Visit) {
        guard logger.logLevel <= .debug else { return }
        logger.debug("session assigned", metadata: [
            "site": "\(visit.siteID)", "session": "\(visit.sessionID)", "number": "\(assignment.number)",
            "kind": "\(assignment.kind.rawValue)", "reason": "\(assignment.reason?.rawValue ?? "-")",
        ])
    }
}

/// IP addresses are stored truncated to their network (SPEC §Privacy): an IPv4 address to its /24, an
/// IPv6 one to its /48 in canonical form; anything else is stored as "?".
enum ClientNetwork {
    static func truncate(_ ip: String) -> String {
        let bytes = Array(ip.utf8)
        return (bytes.contains(UInt8(ascii: ":")) ? ipv6Network(bytes) : ipv4Network(bytes)) ?? "?"
    }

    /// "203.0.113.77" → "203.0.113.0/24".
    private static func ipv4Network(_ bytes: [UInt8]) -> String? {
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count == 4 else { return nil }
        var octets: [Int] = []
        for label in labels {
            guard (1...3).contains(label.count), label.allSatisfy({ (48...57).contains($0) }) else { return nil }
            let value = label.reduce(0) { $0 * 10 + Int($1 - 48) }
            guard value <= 255 else { return nil }
            octets.append(value)
        }
        return "\(octets[0]).\(octets[1]).\(octets[2]).0/24"
    }

    /// "2001:db8::1" → "2001:db8::/48" (RFC 5952 form); a mapped IPv4 address is treated as IPv4.
    private static func ipv6Network(_ bytes: [UInt8]) -> String? {
        var address = bytes
        if let zone = address.firstIndex(of: UInt8(ascii: "%")) { address = Array(address[..<zone]) }
        if address.contains(UInt8(ascii: ".")), let colon = address.lastIndex(of: UInt8(ascii: ":")) {
            return ipv4Network(Array(address[(colon + 1)...]))
        }
        let halves = split(address, on: Array("::".utf8))
        guard halves.count <= 2 else { return nil }
        func groups(_ part: [UInt8]) -> [Int]? {
            if part.isEmpty { return [] }
            var values: [Int] = []
            for group in part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy({ isHexDigit($0) }),
                      let value = Int(String(decoding: group, as: UTF8.self), radix: 16) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        // The network's first three groups, then zeros: "::" replaces the run of zeros that ends it.
        var kept = Array(all.prefix(3))
        while kept.last == 0 { kept.removeLast() }
        return kept.map { String($0, radix: 16) }.joined(separator: ":") + "::/48"
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    private static func split(_ bytes: [UInt8], on separator: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = []
        var start = 0
        var index = 0
        while index + separator.count <= bytes.count {
            if Array(bytes[index..<(index + separator.count)]) == separator {
                parts.append(Array(bytes[start..<index]))
                index += separator.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(Array(bytes[start...]))
        return parts
    }
}

/// Visitor and session ids: what the snippet sends if it looks like ours, else a fresh random one.
enum Identifier {
    static func accept(_ candidate: String?, prefix: String) -> String {
        if let candidate, (8...64).contains(candidate.utf8.count),
           candidate.utf8.allSatisfy({ isAllowed($0) }) {
            return candidate
        }
        return fresh(prefix: prefix)
    }

    static func fresh(prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789abcdefghijklmnopqrstuvwxyz".utf8)
        var bytes = Array(prefix.utf8) + [UInt8(ascii: "_")]
        for _ in 0..<22 { bytes.append(alphabet[Int(generator.next(upperBound: UInt64(alphabet.count)))]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95 || byte == 45 || byte == 46
    }
}
