import CallTrackCore
import Hummingbird

/// CORS by site: a browser may call the API only from an origin the site lists.
/// Requests without `Origin` (servers, curl) are not browsers and pass.
enum OriginPolicy {
    /// The CORS headers for an allowed origin; throws 403 for a disallowed one.
    static func check(_ request: Request, site: Site, metrics: APIMetrics) throws -> HTTPFields {
        guard let origin = request.headers[.origin] else { return [:] }
        guard site.allows(origin: origin) else {
            metrics.rejectedOrigins.increment()
            throw APIError(.forbidden, "origin \(origin) is not allowed for site '\(site.id)': add it to site.\(site.id).origins")
        }
        return allowHeaders(origin)
    }

    static func allowHeaders(_ origin: String) -> HTTPFields {
        [.accessControlAllowOrigin: origin, .vary: "Origin"]
    }

    /// Preflight: the body (and so the site) is unknown, so any site's origin is accepted here;
    /// the real request is checked against its own site.
    static func preflight(_ request: Request, sites: [Site]) throws -> Response {
        guard let origin = request.headers[.origin] else {
            throw APIError(.forbidden, "a preflight names its page's origin in the Origin header")
        }
        guard sites.contains(where: { $0.allows(origin: origin) }) else {
            throw APIError(.forbidden, "origin \(origin.prefix(200)) is not allowed by any site: add it to the site's origins")
        }
        var headers = allowHeaders(origin)
        headers[.accessControlAllowMethods] = "POST, OPTIONS"
        headers[.accessControlAllowHeaders] = "Content-Type"
        headers[.accessControlMaxAge] = "86400"
        return Response(status: .noContent, headers: headers)
    }
}
