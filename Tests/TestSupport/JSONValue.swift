import Foundation

/// A JSON (or YAML) value as read, with integers kept apart from other numbers: both an answer's body and the
/// OpenAPI document are read into this, so the checker compares like with like.
indirect enum JSONValue: Sendable, Hashable, Decodable {
    case object([String: JSONValue])
    case array([JSONValue])
    case string(String)
    case integer(Int64)
    case number(Double)
    case bool(Bool)
    case null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int64.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    /// A value as Yams loads YAML: dictionaries, arrays and scalars (a timestamp becomes its text).
    init(yaml: Any?) {
        switch yaml {
        case nil, is NSNull: self = .null
        case let map as [AnyHashable: Any]:
            self = .object(Dictionary(uniqueKeysWithValues: map.map { ("\($0.key.base)", JSONValue(yaml: $0.value)) }))
        case let list as [Any]: self = .array(list.map { JSONValue(yaml: $0) })
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .integer(Int64(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let other?: self = .string("\(other)")
        }
    }

    subscript(_ key: String) -> JSONValue? {
        if case .object(let map) = self { map[key] } else { nil }
    }

    var string: String? { if case .string(let text) = self { text } else { nil } }
    var array: [JSONValue]? { if case .array(let items) = self { items } else { nil } }
    var object: [String: JSONValue]? { if case .object(let map) = self { map } else { nil } }

    /// The JSON Schema type names this value has (an integer is a number too).
    var typeNames: Set<String> {
        switch self {
        case .object: ["object"]
        case .array: ["array"]
        case .string: ["string"]
        case .integer: ["integer", "number"]
        case .number: ["number"]
        case .bool: ["boolean"]
        case .null: ["null"]
        }
    }
}
