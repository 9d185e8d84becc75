import NIOCore

/// An action the client sends: `Action: Name`, `ActionID`, then its fields, then a blank line.
///
/// ```
/// AMIAction("Ping", id: "ct-3").encode(into: &buffer)   // "Action: Ping\r\nActionID: ct-3\r\n\r\n"
/// ```
public struct AMIAction: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var actionID: String
    public var fields: [Field]

    public struct Field: Sendable, Equatable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public init(_ name: String, id: String, _ fields: [Field] = []) {
        self.name = name
        self.actionID = id
        self.fields = fields
    }

    public subscript(key: String) -> String? {
        fields.first { $0.key.lowercased() == key.lowercased() }?.value
    }

    /// Writes the action; CR and LF inside a value are dropped so a value can never start a new header.
    public func encode(into buffer: inout ByteBuffer) {
        writeLine("Action", name, into: &buffer)
        writeLine("ActionID", actionID, into: &buffer)
        for field in fields { writeLine(field.key, field.value, into: &buffer) }
        buffer.writeStaticString("\r\n")
    }

    public var encoded: ByteBuffer {
        var buffer = ByteBuffer()
        encode(into: &buffer)
        return buffer
    }

    /// The action without secrets, for logs.
    public var description: String {
        let shown = fields.map { field in
            ["secret", "key"].contains(field.key.lowercased()) ? "\(field.key): ***" : "\(field.key): \(field.value)"
        }
        return (["Action: \(name)", "ActionID: \(actionID)"] + shown).joined(separator: " | ")
    }

    private func writeLine(_ key: String, _ value: String, into buffer: inout ByteBuffer) {
        buffer.writeString(Self.singleLine(key))
        buffer.writeStaticString(": ")
        buffer.writeString(Self.singleLine(value))
        buffer.writeStaticString("\r\n")
    }

    private static func singleLine(_ text: String) -> String {
        text.contains(where: \.isNewline) ? String(text.filter { !$0.isNewline }) : text
    }
}
