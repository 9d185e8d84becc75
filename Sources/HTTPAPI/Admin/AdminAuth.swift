import Hummingbird

/// `Authorization: Bearer <admin.token>` on every admin route; without a configured token the admin API is off.
struct AdminAuth: RouterMiddleware {
    typealias Context = APIContext
    let token: String?

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let token else {
            throw APIError(.forbidden, "the admin API is disabled: set admin.token in the config file (or CALLTRACKD_ADMIN_TOKEN)")
        }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              Self.constantTimeEqual(Array(header.utf8.dropFirst(7)), Array(token.utf8)) else {
            var error = APIError(.unauthorized, "send the admin token as 'Authorization: Bearer <admin.token>'")
            error.headers[.wwwAuthenticate] = "Bearer"
            throw error
        }
        return try await next(request, context)
    }

    /// Compares without an early exit, so timing does not reveal how much of a guess was right.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
