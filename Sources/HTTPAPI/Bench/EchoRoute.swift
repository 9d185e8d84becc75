import Hummingbird

/// `POST /v1/bench/echo`, enabled only for benchmarks: decodes the same body as `POST /v1/sessions`
/// and answers a same-sized body without touching pool or store — the ceiling durable allocation is compared to.
struct EchoRoute {
    let sessions: SessionRoutes

    func register(on router: Router<APIContext>) {
        router.post("/v1/bench/echo") { request, _ in
            let body = try await decodeBody(SessionRequestBody.self, from: request, limit: sessions.settings.maxBodyBytes)
            let answer = SessionAnswer(
                session_id: body.session_id ?? "s_0000000000000000000000", visitor_id: body.visitor_id ?? "v_0000000000000000000000",
                number: "+74950000001", display: "+7 (495) 000-00-01", kind: "pool", reason: nil, lease_on: "load",
                interaction_delay_s: 0, ping_interval_s: sessions.settings.pingIntervalSeconds,
                expires_at: "2026-01-01T00:20:00Z",
                site: SiteSnippetConfig(numbers: ["+74950000000"], selectors: [], mask: "+7 (XXX) XXX-XX-XX", respect_dnt: false,
                                        hide_timeout_ms: sessions.settings.hideTimeoutMilliseconds))
            return try jsonResponse(answer)
        }
    }
}
