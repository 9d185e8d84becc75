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
    /// Each pool's traffic per minute, for pool statistics and sizing.
    public let statistics: PoolStatsRecorder
    /// The identifiers of a visit that link visitors (`APISettings.identityLinks`).
    public let identityLinks: Set<VisitorIdentifier.Kind>
    let logger: Logger

    public init(
        book: LeaseBook, store: any StateStore, clock: any WallClock, metrics: APIMetrics,
        statistics: PoolStatsRecorder = PoolStatsRecorder(),
        identityLinks: Set<VisitorIdentifier.Kind> = VisitorIdentifier.Kind.fromSessions, logger: Logger
    ) {
        self.book = book
        self.statistics = statistics
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
        /// GA4's session id, already checked (`GASessionID.accept`).
        var gaSessionID: String? = nil
    }

    /// Allocates or touches at `now` (when the visit's ids were accepted or made); returns the assignment
    /// that is now durable.
    nonisolated(nonsending) func allocate(_ visit: Visit, at now: Timestamp) async throws -> Assignment {
        do {
            // The lease book touches a live lease of this session, or leases a number.
            let previous = try await store.previousNumber(of: visit.visitorID, site: visit.siteID)
            let request = AllocationRequest(
                siteID: visit.siteID, sessionID: visit.sessionID, visitorID: visit.visitorID, source: visit.source,
                userAgent: visit.userAgent, clientIP: visit.clientIP, interacted: visit.interacted,
                doNotTrack: visit.doNotTrack, previousNumber: previous)
            let assignment = try book.assign(request, at: now)
            do {
                try await persist(assignment, visit, at: now)
            } catch {
                book.undo(assignment)
                throw error
            }
            metrics.record(assignment)
            statistics.note(assignment, at: now)
            log(assignment, visit)
            return assignment
        } catch {
            throw answerable(error)
        }
    }

    /// Keeps a live lease alive (the snippet's keepalive); nil when the session holds none.
    nonisolated(nonsending) func ping(siteID: String, sessionID: SessionID) async throws -> Assignment? {
        let now = clock.now()
        do {
            guard let touched = try book.touch(siteID: siteID, session: sessionID, at: now) else { return nil }
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
    private nonisolated(nonsending) func persist(_ assignment: Assignment, _ visit: Visit, at now: Timestamp) async throws {
        switch assignment.reason {
        case .bot, .rateLimited, .doNotTrack: return
        default: break
        }
        let session = SessionRecord(
            id: visit.sessionID, visitorID: visit.visitorID, siteID: visit.siteID, startedAt: now, lastActivityAt: now,
            source: visit.source, userAgent: visit.userAgent.map { String($0.prefix(SessionRecord.maxUserAgentLength)) },
            clientNetwork: visit.clientIP.map(ClientNetwork.truncate), gaClientID: visit.gaClientID, ymUID: visit.ymUID, gaSessionID: visit.gaSessionID,
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

/// Visitor and session ids: what the snippet sends if it looks like ours, else a fresh one made as the snippet
/// makes them (`TimeOrderedID`).
enum Identifier {
    static func accept(_ candidate: String?, prefix: String, now: Timestamp) -> String {
        if let candidate, isWellFormed(candidate) { return candidate }
        var generator = SystemRandomNumberGenerator()
        return TimeOrderedID.make(prefix: prefix, at: now, using: &generator)
    }

    /// The ids the daemon keeps, so the only ones it can have issued: 8 to 64 letters, digits, `_`, `-` or `.`.
    static func isWellFormed(_ candidate: String) -> Bool {
        (8...64).contains(candidate.utf8.count) && candidate.utf8.allSatisfy { isAllowed($0) }
    }

    /// How `isWellFormed` reads in an error message.
    static let shape = "8 to 64 letters, digits, '_', '-' or '.', as the snippet makes them (v_0mx5n00lxk3f0a9x7be5d)"

    private static func isAllowed(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 95 || byte == 45 || byte == 46
    }
}
