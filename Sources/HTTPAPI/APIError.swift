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
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data("{}".utf8)
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

/// Reads a request body up to `limit` bytes and decodes it as JSON, whatever the content type
/// (the snippet sends `text/plain` to stay a CORS simple request).
nonisolated(nonsending) func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, decoder: JSONDecoder = JSONDecoder()) async throws -> T {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch let error as HTTPError where error.status == .contentTooLarge {
        throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
    } catch is NIOTooManyBytesError {
        throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
    }
    do {
        return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
    } catch {
        throw APIError.badJSON(error)
    }
}

/// A JSON response with the given status.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], encoder: JSONEncoder = .api) throws -> Response {
    var fields = headers
    fields[.contentType] = "application/json; charset=utf-8"
    let data = try encoder.encode(value)
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}

extension JSONEncoder {
    static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
