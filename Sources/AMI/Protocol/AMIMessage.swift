import NIOCore

/// One AMI message: the ordered `Key: Value` lines up to the blank line, kept as the bytes Asterisk sent.
///
/// ```
/// Event: Hangup\r\n          message.event            == "Hangup"
/// Channel: SIP/trunk-0006\r\n message["channel"]      == "SIP/trunk-0006"   (keys in any case)
/// Cause: 16\r\n              message.values("Cause")  == ["16"]            (repeated keys kept in order)
/// \r\n
/// ```
/// Values are decoded lazily; bytes that are not UTF-8 are replaced for display, and
/// `rawValue(_:)` returns them untouched.
public struct AMIMessage: Sendable, Equatable, CustomStringConvertible {
    /// Where one line's key and value sit inside `bytes` (offsets from the message start).
    struct Field: Sendable, Equatable {
        var keyStart: Int32
        var keyLength: Int32
        var valueStart: Int32
        var valueLength: Int32
    }

    /// The message bytes as received, including line ends.
    public let bytes: ByteBuffer
    let fields: [Field]
    /// False when some value is not UTF-8 (a trunk sending names in a legacy code page): the bytes
    /// are kept as sent, strings show U+FFFD in their place, and the client counts and logs it.
    public let isValidUTF8: Bool

    init(bytes: ByteBuffer, fields: [Field], isValidUTF8: Bool = true) {
        self.bytes = bytes
        self.fields = fields
        self.isValidUTF8 = isValidUTF8
    }

    /// The first line whose bytes are not UTF-8, escaped for a log line (`CallerIDName: \xC8\xE2…`).
    public var invalidUTF8Excerpt: String? {
        bytes.withUnsafeReadableBytes { raw in
            for field in fields {
                let line = UnsafeRawBufferPointer(rebasing: raw[Int(field.keyStart)..<Int(field.valueStart + field.valueLength)])
                if String(validating: line, as: UTF8.self) == nil { return AMIDecoder.escaped(line, limit: 64) }
            }
            return nil
        }
    }

    /// Builds a message from pairs, as Asterisk would send it (for tests and the fake server).
    public init(_ pairs: [(String, String)]) {
        var buffer = ByteBuffer()
        var fields: [Field] = []
        for (key, value) in pairs {
            let keyStart = buffer.writerIndex
            buffer.writeString(key)
            buffer.writeString(": ")
            let valueStart = buffer.writerIndex
            buffer.writeString(value)
            fields.append(Field(keyStart: Int32(keyStart), keyLength: Int32(key.utf8.count),
                                valueStart: Int32(valueStart), valueLength: Int32(value.utf8.count)))
            buffer.writeString("\r\n")
        }
        buffer.writeString("\r\n")
        self.init(bytes: buffer, fields: fields)
    }

    public var count: Int { fields.count }

    /// The `Event` header, or nil for a response.
    public var event: String? { self["Event"] }
    /// The `Response` header (`Success`, `Error`, `Follows`, `Goodbye`), or nil for an event.
    public var response: String? { self["Response"] }
    public var actionID: String? { self["ActionID"] }

    /// The first value of `key` (ASCII case-insensitive), lossily decoded.
    public subscript(key: String) -> String? {
        guard let index = firstIndex(of: key) else { return nil }
        return string(at: fields[index].valueStart, length: fields[index].valueLength)
    }

    /// Every value of `key`, in order (e.g. `Variable` in a `Status` reply).
    public func values(_ key: String) -> [String] {
        fields.indices.filter { keyMatches(fields[$0], key) }.map {
            string(at: fields[$0].valueStart, length: fields[$0].valueLength)
        }
    }

    /// The untouched bytes of the first value of `key`.
    public func rawValue(_ key: String) -> [UInt8]? {
        guard let index = firstIndex(of: key) else { return nil }
        return bytes.getBytes(at: Int(fields[index].valueStart), length: Int(fields[index].valueLength))
    }

    /// All keys and values in order, lossily decoded.
    public var pairs: [(key: String, value: String)] {
        fields.map { (string(at: $0.keyStart, length: $0.keyLength), string(at: $0.valueStart, length: $0.valueLength)) }
    }

    /// True when the first value of `key` equals `value`, compared as bytes (no String is built).
    public func has(_ key: String, equalTo value: String) -> Bool {
        guard let index = firstIndex(of: key) else { return false }
        let field = fields[index]
        return bytes.withUnsafeReadableBytes { raw in
            let slice = UnsafeRawBufferPointer(rebasing: raw[Int(field.valueStart)..<Int(field.valueStart + field.valueLength)])
            return slice.elementsEqual(value.utf8)
        }
    }

    public var description: String {
        pairs.map { "\($0.key): \($0.value)" }.joined(separator: " | ")
    }

    public static func == (lhs: AMIMessage, rhs: AMIMessage) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.key == $1.key && $0.value == $1.value }
    }

    func firstIndex(of key: String) -> Int? {
        for index in fields.indices where keyMatches(fields[index], key) { return index }
        return nil
    }

    private func keyMatches(_ field: Field, _ key: String) -> Bool {
        guard Int(field.keyLength) == key.utf8.count else { return false }
        return bytes.withUnsafeReadableBytes { raw in
            var offset = Int(field.keyStart)
            for expected in key.utf8 {
                if asciiLowercased(raw[offset]) != asciiLowercased(expected) { return false }
                offset += 1
            }
            return true
        }
    }

    private func string(at start: Int32, length: Int32) -> String {
        bytes.withUnsafeReadableBytes { raw in
            String(decoding: UnsafeRawBufferPointer(rebasing: raw[Int(start)..<Int(start + length)]), as: UTF8.self)
        }
    }
}

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 {
    byte &+ (byte &- UInt8(ascii: "A") < 26 ? 32 : 0)
}
