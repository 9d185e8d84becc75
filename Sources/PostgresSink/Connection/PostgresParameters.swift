import CallTrackCore

/// The `$1…$n` values of one command, packed into one buffer (one allocation for thousands of
/// parameters): NUL-terminated text, or a binary value (`PostgresArrayColumns`) with its length.
///
/// PostgreSQL text can never hold a NUL byte, so NULs are dropped here: a caller name with a
/// stray `\0` is stored without it instead of failing its batch.
public struct PostgresParameters: Sendable {
    private var bytes: [UInt8] = []
    /// Start of each value in `bytes`; -1 for SQL NULL.
    private var offsets: [Int] = []
    /// Byte length of each value (libpq reads it for binary values only) and its format: 0 text, 1 binary.
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    public init() {}

    public init(_ values: [String?]) {
        for value in values { append(value) }
    }

    public var count: Int { offsets.count }

    public mutating func reserve(values: Int, bytes: Int) {
        offsets.reserveCapacity(values)
        lengths.reserveCapacity(values)
        formats.reserveCapacity(values)
        self.bytes.reserveCapacity(bytes)
    }

    public mutating func append(_ value: String?) {
        guard let value else { return appendNull() }
        let start = bytes.count
        Self.appendText(value, to: &bytes)
        endText(from: start)
    }

    /// The UTF-8 of `text` without its NUL bytes (PostgreSQL text cannot hold them).
    static func appendText(_ text: String, to bytes: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            if utf8.contains(0) {
                for byte in utf8 where byte != 0 { bytes.append(byte) }
            } else {
                bytes.append(contentsOf: utf8)
            }
        }
    }

    /// A value in PostgreSQL's binary format for the parameter's type (which the statement must name),
    /// written by `write` straight into the buffer.
    mutating func appendBinary(_ write: (inout [UInt8]) -> Void) {
        let start = bytes.count
        write(&bytes)
        offsets.append(start)
        lengths.append(Int32(bytes.count - start))
        formats.append(1)
    }

    /// Ends a text value that started at `start` in `bytes`.
    private mutating func endText(from start: Int) {
        offsets.append(start)
        lengths.append(Int32(bytes.count - start))
        formats.append(0)
        bytes.append(0)
    }

    public mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        let start = bytes.count
        bytes.append(contentsOf: String(value).utf8)
        endText(from: start)
    }

    public mutating func append(_ value: Int?) { append(value.map(Int64.init)) }

    public mutating func append(_ value: Double?) {
        guard let value, value.isFinite else { return appendNull() }
        append("\(value)")
    }

    public mutating func append(_ value: Bool?) {
        guard let value else { return appendNull() }
        append(value ? "t" : "f")
    }

    public mutating func append(_ value: Timestamp?) { append(value?.postgresText) }

    public mutating func appendNull() {
        offsets.append(-1)
        lengths.append(0)
        formats.append(0)
    }

    /// libpq's `paramValues`, `paramLengths` and `paramFormats` arrays; the pointers live only during the call.
    struct Pointers {
        var values: UnsafePointer<UnsafePointer<CChar>?>?
        var lengths: UnsafePointer<Int32>?
        var formats: UnsafePointer<Int32>?
    }

    /// Calls `body` with the value pointers; lengths and formats are passed only when a value is binary.
    func withValuePointers<T>(_ body: (Pointers) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { chars in
                let base = chars.baseAddress
                let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                    guard offset >= 0, let base else { return nil }
                    return base + offset
                }
                return try pointers.withUnsafeBufferPointer { values in
                    guard formats.contains(1) else { return try body(Pointers(values: values.baseAddress)) }
                    return try lengths.withUnsafeBufferPointer { lengths in
                        try formats.withUnsafeBufferPointer { formats in
                            try body(Pointers(values: values.baseAddress, lengths: lengths.baseAddress, formats: formats.baseAddress))
                        }
                    }
                }
            }
        }
    }
}

extension PostgresParameters: ExpressibleByArrayLiteral {
    public init(arrayLiteral values: String?...) { self.init(values) }
}
