import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import Yams

/// docs/openapi.yaml, and the check of an answer against it: the path and method are an operation, the status
/// is documented for it, and a JSON body has the documented keys (no more, every required one) and types.
///
/// A path no operation matches may only answer the API's 404 `{"error": …}`. Read once per test process.
public struct OpenAPIDocument: Sendable {
    let root: JSONValue

    public static let shared: Result<OpenAPIDocument, OpenAPIDocumentError> = {
        // <repo>/Tests/TestSupport/OpenAPIDocument.swift -> <repo>/docs/openapi.yaml
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
        do {
            return .success(OpenAPIDocument(root: JSONValue(yaml: try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)))))
        } catch {
            return .failure(OpenAPIDocumentError(description: "cannot read \(url.path): \(error)"))
        }
    }()

    /// The operations as `METHOD /path/{param}`, methods upper-case.
    public var operations: Set<String> {
        var all: Set<String> = []
        for (path, item) in root["paths"]?.object ?? [:] {
            for method in (item.object ?? [:]).keys where Self.methods.contains(method) { all.insert("\(method.uppercased()) \(path)") }
        }
        return all
    }

    static let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch"]

    /// What is wrong with an answer; empty when the document describes it.
    public func problems(method: String, uri: String, status: Int, contentType: String?, body: [UInt8]) -> [String] {
        let path = String(uri.prefix { $0 != "?" && $0 != "#" })
        guard let (template, operation) = operation(method: method.lowercased(), path: path) else {
            // No operation: only the API's own not-found answer is right.
            guard status == 404 else { return ["no operation in docs/openapi.yaml matches, yet the answer is \(status), not 404"] }
            return check(body: body, contentType: contentType, against: .object(["content": .object(["application/json": .object([
                "schema": .object(["$ref": .string("#/components/schemas/Error")])])])]), what: "the not-found answer")
        }
        guard let response = operation["responses"]?[String(status)] ?? operation["responses"]?["default"] else {
            return ["status \(status) is not documented for \(method.uppercased()) \(template)"]
        }
        return check(body: body, contentType: contentType, against: resolve(response), what: "\(method.uppercased()) \(template) \(status)")
    }

    /// What is wrong with a body calltrackd posts to a webhook (`webhooks.<name>.post` in the document); empty when
    /// the document describes it.
    public func webhookProblems(_ name: String, body: [UInt8]) -> [String] {
        guard let operation = root["webhooks"]?[name]?["post"] else { return ["no webhook '\(name)' in docs/openapi.yaml"] }
        guard let request = operation["requestBody"] else { return ["webhook '\(name)' documents no request body"] }
        return check(body: body, contentType: "application/json", against: resolve(request), what: "webhook \(name)")
    }

    /// The operation of a request: the path whose segments match (`{name}` matches any one), literal ones first.
    func operation(method: String, path: String) -> (String, JSONValue)? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        var best: (template: String, operation: JSONValue, literals: Int)?
        for (template, item) in root["paths"]?.object ?? [:] {
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == segments.count, let operation = item[method] else { continue }
            var literals = 0
            var matches = true
            for (part, segment) in zip(parts, segments) {
                if part.hasPrefix("{") && part.hasSuffix("}") {
                    if segment.isEmpty { matches = false; break }
                } else if part == segment {
                    literals += 1
                } else {
                    matches = false
                    break
                }
            }
            if matches, literals > best?.literals ?? -1 { best = (template, operation, literals) }
        }
        return best.map { ($0.template, $0.operation) }
    }

    private func check(body: [UInt8], contentType: String?, against response: JSONValue, what: String) -> [String] {
        let content = response["content"]?.object ?? [:]
        if body.isEmpty {
            // An empty text (a registry with no metrics yet) is still text; a JSON body is never empty.
            return content["application/json"] == nil ? [] : ["\(what): documented with a JSON body, answered none"]
        }
        let media = contentType.map { String($0.prefix { $0 != ";" }).trimmingCharacters(in: .whitespaces) } ?? ""
        guard let documented = content[media] else {
            return ["\(what): answered \(media.isEmpty ? "a body without a content type" : media), documented \(content.isEmpty ? "no body" : content.keys.sorted().joined(separator: ", "))"]
        }
        guard media == "application/json" else { return [] }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(body)) else {
            return ["\(what): the body is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))"]
        }
        guard let schema = documented["schema"] else { return ["\(what): a JSON body with no documented schema"] }
        return problems(of: value, against: schema, at: "\(what) body")
    }

    /// What is wrong with `value` under `schema`: type, enum, date-time format, keys (documented, required), items.
    func problems(of value: JSONValue, against schema: JSONValue, at location: String) -> [String] {
        let schema = resolve(schema)
        var found: [String] = []
        if let types = Self.typeNames(schema["type"]), types.isDisjoint(with: value.typeNames) {
            return ["\(location): \(value.typeNames.sorted().first ?? "?") where the document says \(types.sorted().joined(separator: " or "))"]
        }
        if let options = schema["enum"]?.array, !options.contains(value) {
            found.append("\(location): \(value) is not one of the documented values \(options)")
        }
        switch value {
        case .string(let text):
            if schema["format"]?.string == "date-time", !Self.isDateTime(text) {
                found.append("\(location): '\(text)' is not an ISO 8601 time with an offset")
            }
        case .object(let map):
            let properties = schema["properties"]?.object
            for key in (schema["required"]?.array ?? []).compactMap(\.string) where map[key] == nil {
                found.append("\(location): required key '\(key)' is missing")
            }
            if let properties {
                for (key, item) in map.sorted(by: { $0.key < $1.key }) {
                    if let property = properties[key] {
                        found += problems(of: item, against: property, at: "\(location).\(key)")
                    } else if schema["additionalProperties"] != .bool(true) {
                        found.append("\(location): key '\(key)' is not documented")
                    }
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() { found += problems(of: item, against: itemSchema, at: "\(location)[\(index)]") }
            }
        default: break
        }
        return found
    }

    /// A schema or response with its `$ref` followed (`#/components/…`).
    func resolve(_ value: JSONValue) -> JSONValue {
        guard let reference = value["$ref"]?.string, reference.hasPrefix("#/") else { return value }
        var target: JSONValue? = root
        for part in reference.dropFirst(2).split(separator: "/") { target = target?[String(part)] }
        return target.map(resolve) ?? value
    }

    private static func typeNames(_ type: JSONValue?) -> Set<String>? {
        switch type {
        case .string(let name)?: [name]
        case .array(let names)?: Set(names.compactMap(\.string))
        default: nil
        }
    }

    /// `2026-11-24T18:31:08Z`, `2026-11-24T18:31:08.5+03:00`: RFC 3339, the offset required.
    static func isDateTime(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})/) != nil
    }
}

public struct OpenAPIDocumentError: Error, CustomStringConvertible {
    public var description: String
}

/// Every answer a test gets over HTTP, checked against docs/openapi.yaml where it arrives: whatever the
/// document does not describe is an issue of the test that got the answer, so the document cannot drift
/// from the code unseen.
public enum OpenAPIConformance {
    public static func check(method: String, uri: String, status: Int, contentType: String?, body: [UInt8]) {
        switch OpenAPIDocument.shared {
        case .success(let document):
            for problem in document.problems(method: method, uri: uri, status: status, contentType: contentType, body: body) {
                Issue.record("docs/openapi.yaml does not describe the answer to \(method) \(uri.prefix(120)): \(problem)")
            }
        case .failure(let error):
            Issue.record("\(error)")
        }
    }

    /// `URLSession.shared.data(for:)`, with the answer checked.
    public static func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw URLError(.badServerResponse) }
        let path = request.url.map { $0.path + ($0.query.map { "?" + $0 } ?? "") } ?? "/"
        check(method: request.httpMethod ?? "GET", uri: path, status: http.statusCode,
              contentType: http.value(forHTTPHeaderField: "Content-Type"), body: Array(data))
        return (data, http)
    }
}
