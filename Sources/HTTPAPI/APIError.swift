import Foundation
import Hummingbird
import NIOCore

/// An error the API answers with: a status and a message that says what to do, as `{"error": "…"}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let message: String
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        let body = (try? JSONEncoder.api.encode(["error": message])) ?? Data(#"{"error":"unknown"}"#.utf8)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    static func badJSON(_ error: any Error) -> APIError {
        let detail: String
        switch error {
        case DecodingError.keyNotFound(let key, _): detail = "missing field '\(key.stringValue)'"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            detail = "wrong type at '\(context.codingPath.map(\.stringValue).joined(separator: "."))'"
        case DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            detail = path.isEmpty ? "the body is not valid JSON" : "invalid value at '\(path)': \(context.debugDescription)"
        default: detail = "the body is not valid JSON"
        }
        return APIError(.badRequest, detail)
    }
}
