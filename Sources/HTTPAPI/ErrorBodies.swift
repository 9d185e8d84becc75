import CallTrackCore
import Hummingbird
import Logging

/// Every error as `{"error": "…"}`: the router's own (no route matches: 404; the framework's 400s and 413s)
/// a store that cannot answer (503), and any unexpected error (500, logged here), besides the `APIError`s the
/// routes throw.
///
/// Added to the router before any route, so it wraps every route and the not-found answer.
struct ErrorBodies: RouterMiddleware {
    typealias Context = APIContext
    let logger: Logger

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            var answer: APIError
            if error.status == .notFound, error.body == nil {
                answer = APIError(.notFound, "no route answers \(request.method.rawValue) \(request.uri.path.prefix(200)): see docs/openapi.yaml")
            } else {
                answer = APIError(error.status, error.body ?? error.status.reasonPhrase)
            }
            answer.headers = error.headers
            throw answer
        } catch let error as StoreUnavailable {
            throw APIError(.serviceUnavailable, "the state store cannot answer now (\(error)); try again")
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, error.status.reasonPhrase)
        } catch {
            logger.error("request failed", metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path.prefix(200))", "error": "\(String(describing: error))",
            ])
            throw APIError(.internalServerError, "the daemon failed to answer; it logged why")
        }
    }
}
