import CallTrackCore
import Foundation
import Hummingbird

/// `POST /v1/sessions`, `POST /v1/sessions/{id}/ping`, `POST /v1/errors`: what the snippet calls.
struct SessionRoutes {
    let desk: SessionDesk
    let settings: APISettings

    /// Browsers send these when the visitor opted out of tracking (SPEC §Privacy).
    static let doNotTrack = HTTPFields.Element.Name("DNT")!
    static let globalPrivacyControl = HTTPFields.Element.Name("Sec-GPC")!

    func register(on router: Router<APIContext>) {
        router.post("/v1/sessions") { request, context in try await allocate(request, context) }
        router.post("/v1/sessions/{id}/ping") { request, context in try await ping(request, context) }
        router.post("/v1/errors") { request, context in try await snippetError(request, context) }
        for path in ["/v1/sessions", "/v1/sessions/{id}/ping", "/v1/errors"] {
            router.on(RouterPath(path), method: .options) { request, _ in
                try OriginPolicy.preflight(request, sites: desk.book.allSites)
            }
        }
    }

    /// `nonisolated(nonsending)` here and down the allocation path: the event loops run tasks as their own serial
    /// executor, so every call into a plain nonisolated async function puts the task back at the end of the loop's
    /// queue (a turn each, measured on the `http` benchmark). These run where their caller runs.
    nonisolated(nonsending) func allocate(_ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await decodeBody(SessionRequestBody.self, from: request, limit: settings.maxBodyBytes)
        let site = try knownSite(body.site)
        let cors = try OriginPolicy.check(request, site: site, metrics: desk.metrics)
        let now = desk.clock.now()
        let gaSessionID = body.ga_session_id.flatMap { SessionRequestBody.clean($0, limit: 64) }
        let acceptedGASessionID = gaSessionID.flatMap(GASessionID.accept)
        if gaSessionID != nil, acceptedGASessionID == nil { desk.metrics.droppedGASessionIDs.increment() }
        let visit = SessionDesk.Visit(
            siteID: site.id,
            sessionID: Identifier.accept(body.session_id, prefix: "s", now: now),
            visitorID: Identifier.accept(body.visitor_id, prefix: "v", now: now),
            source: body.source,
            userAgent: request.headers[.userAgent],
            clientIP: context.clientIP(request, trusting: settings.trustedProxies),
            interacted: body.interaction ?? true,
            doNotTrack: body.dnt ?? false || request.headers[Self.doNotTrack] == "1" || request.headers[Self.globalPrivacyControl] == "1",
            gaClientID: body.ga_client_id.flatMap { SessionRequestBody.clean($0, limit: 128) },
            ymUID: body.ym_uid.flatMap { SessionRequestBody.clean($0, limit: 128) },
            gaSessionID: acceptedGASessionID)
        let assignment = try await desk.allocate(visit, at: now)
        return try jsonResponse(answer(assignment, site: site, session: visit.sessionID, visitor: visit.visitorID), headers: cors)
    }

    nonisolated(nonsending) func ping(_ request: Request, _ context: APIContext) async throws -> Response {
        let body = try await decodeBody(PingRequestBody.self, from: request, limit: settings.maxBodyBytes)
        let site = try knownSite(body.site)
        let cors = try OriginPolicy.check(request, site: site, metrics: desk.metrics)
        let sessionID = try context.parameters.decoded("id")
        guard let touched = try await desk.ping(siteID: site.id, sessionID: sessionID) else {
            var error = APIError(.notFound, "session \(sessionID) holds no live lease: ask POST /v1/sessions again")
            error.headers = cors
            throw error
        }
        let visitor = touched.lease?.visitorID ?? body.visitor_id ?? ""
        return try jsonResponse(answer(touched, site: site, session: sessionID, visitor: visitor), headers: cors)
    }

    /// Errors the snippet caught in a page: counted and logged, never answered with an error.
    func snippetError(_ request: Request, _ context: APIContext) async throws -> Response {
        struct Report: Decodable { var site: String?; var message: String?; var url: String? }
        let report = try await decodeBody(Report.self, from: request, limit: settings.maxBodyBytes)
        desk.metrics.snippetErrors.increment()
        desk.logger.debug("snippet error", metadata: [
            "site": "\(report.site.map { String($0.prefix(64)) } ?? "-")", "message": "\(report.message.map { String($0.prefix(200)) } ?? "-")",
            "url": "\(report.url.map { String($0.prefix(200)) } ?? "-")",
        ])
        var headers: HTTPFields = [:]
        if let id = report.site, let site = desk.book.site(id), let origin = request.headers[.origin], site.allows(origin: origin) {
            headers = OriginPolicy.allowHeaders(origin)
        }
        return Response(status: .noContent, headers: headers)
    }

    private func knownSite(_ id: String) throws -> Site {
        guard let site = desk.book.site(id) else {
            throw APIError(.notFound, "unknown site '\(id)': add it to the config file or through the admin API")
        }
        return site
    }

    func answer(_ assignment: Assignment, site: Site, session: SessionID, visitor: VisitorID) -> SessionAnswer {
        let pool = assignment.poolID.flatMap { id in site.pools.first { $0.id == id } } ?? site.pools.first
        var delay = 0
        if case .interaction(let seconds) = pool?.policy.leaseOn { delay = seconds }
        return SessionAnswer(
            session_id: session, visitor_id: visitor,
            number: assignment.number.e164, display: site.displayMask.format(assignment.number),
            kind: assignment.kind.rawValue, reason: assignment.reason?.rawValue,
            lease_on: pool?.policy.leaseOn.name ?? "load", interaction_delay_s: delay,
            ping_interval_s: settings.pingIntervalSeconds,
            expires_at: assignment.lease.map { APITime.format($0.expiresAt) },
            site: SiteSnippetConfig(
                numbers: site.pageNumbers.map(\.e164), selectors: site.selectors, mask: site.displayMask.pattern,
                respect_dnt: site.respectDoNotTrack, hide_timeout_ms: settings.hideTimeoutMilliseconds))
    }
}
