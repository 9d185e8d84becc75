import Hummingbird

/// `Authorization: Bearer <token>` on every admin route, and the token's scope must grant the route's
/// (`TokenScope.needed`): a missing or unknown token answers 401, a token of the wrong scope 403 naming the
/// scope needed. With no token configured the admin API is off (403).
struct AdminAuth: RouterMiddleware {
    typealias Context = APIContext
    let tokens: [APIToken]

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard !tokens.isEmpty else {
            throw APIError(.forbidden, "the admin API is disabled: set admin.token in the config file (or CALLTRACKD_ADMIN_TOKEN), or add tokens")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let token = APIToken.match(header.utf8.dropFirst(7), in: tokens) else {
            var error = APIError(.unauthorized, "send an admin API token as 'Authorization: Bearer <token>' (admin.token, or one of tokens)")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        let needed = TokenScope.needed(method: request.method.rawValue, path: request.uri.path)
        guard token.scope.grants(needed) else {
            throw APIError(.forbidden, "this route needs a token with scope '\(needed.rawValue)' (or 'admin'); the token '\(token.name)' has scope '\(token.scope.rawValue)'")
        }
        var context = context
        context.tokenName = token.name
        return try await next(request, context)
    }
}
