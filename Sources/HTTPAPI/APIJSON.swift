import CallTrackCore
import Foundation
import Hummingbird
import NIOCore

/// The one JSON style of every route, read and written: snake_case keys and times as ISO 8601 with an offset
/// (`2026-11-24T18:31:08Z`, `APITime`).
///
/// Each body type spells its keys in snake_case itself, by its property names or its `CodingKeys`; neither
/// coder converts keys, because the conversion makes every encoded answer half again as slow, the snippet's
/// allocations included. The HTTP tests check every answer they get against docs/openapi.yaml.
extension JSONEncoder {
    public static let api: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// Times in API answers: ISO 8601 in UTC with its `Z` offset, whole seconds.
public enum APITime {
    public static func format(_ t: Timestamp) -> String { t.iso8601 }

    /// A time written as ISO 8601 with an offset (`2026-12-01T00:00:00Z`, `2026-12-01T03:00:00.5+03:00`); nil otherwise.
    public static func parse(_ text: String) -> Timestamp? {
        for options: ISO8601DateFormatter.Options in [[.withInternetDateTime], [.withInternetDateTime, .withFractionalSeconds]] {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = options
            if let date = formatter.date(from: text) {
                return Timestamp(microsecondsSinceEpoch: Int64((date.timeIntervalSince1970 * 1_000_000).rounded()))
            }
        }
        return nil
    }
}

/// Reads a request body up to `limit` bytes and decodes it as JSON, whatever the content type
/// (the snippet sends `text/plain` to stay a CORS simple request).
nonisolated(nonsending) func decodeBody<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
    let buffer: ByteBuffer
    do {
        buffer = try await request.body.collect(upTo: limit)
    } catch let error as HTTPError where error.status == .contentTooLarge {
        throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
    } catch is NIOTooManyBytesError {
        throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes")
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
    } catch {
        throw APIError.badJSON(error)
    }
}

/// A JSON response with the given status.
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
    var fields = headers
    fields[.contentType] = "application/json; charset=utf-8"
    let data = try JSONEncoder.api.encode(value)
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
