import Foundation
import Hummingbird

extension Parameters {
    /// A path parameter as the client meant it, percent-decoded: `%2B74950000011` is `+74950000011`, `acm%65`
    /// is `acme`. The router splits the path at its slashes before this decodes, so `%2F` stays inside the value.
    /// Escapes that are not UTF-8 answer 400 naming the parameter.
    func decoded(_ name: String) throws -> String {
        guard let raw = get(name) else { throw APIError(.badRequest, "the path has no '\(name)'") }
        guard raw.utf8.contains(UInt8(ascii: "%")) else { return raw }
        guard let text = raw.removingPercentEncoding else {
            throw APIError(.badRequest, "the path's \(name) '\(raw.prefix(80))' has a % that is not followed by two hex digits of UTF-8")
        }
        return text
    }
}
