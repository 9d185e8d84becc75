import CallTrackCore

/// Values written in column order: one parameter per value (`PostgresParameters`, as text) or
/// one array per column (`PostgresArrayColumns`, binary).
public protocol PostgresValues {
    mutating func append(_ value: String?)
    mutating func append(_ value: Int64?)
    mutating func append(_ value: Int?)
    mutating func append(_ value: Double?)
    mutating func append(_ value: Bool?)
    mutating func append(_ value: Timestamp?)
}

extension PostgresParameters: PostgresValues {}

/// The element types an array column holds, with their binary formats (PostgreSQL's `*_send`).
public enum PostgresElementType: Sendable {
    case text, jsonb, bigint, integer, doublePrecision, boolean, timestamptz

    /// The name a statement casts its array parameter to (`$1::text[]`).
    public var sqlName: String {
        switch self {
        case .text: "text"
        case .jsonb: "jsonb"
        case .bigint: "bigint"
        case .integer: "integer"
        case .doublePrecision: "double precision"
        case .boolean: "boolean"
        case .timestamptz: "timestamptz"
        }
    }

    /// The type's OID, which a binary array names in its header (`pg_type.oid`, fixed for built-in types).
    var oid: UInt32 {
        switch self {
        case .text: 25
        case .jsonb: 3802
        case .bigint: 20
        case .integer: 23
        case .doublePrecision: 701
        case .boolean: 16
        case .timestamptz: 1184
        }
    }
}

/// One binary array per column, filled row by row: a batch of any size becomes one parameter per
/// column for `unnest`, so the server takes apart a few long values instead of parsing tens of
/// thousands of parameters and a statement as long as the batch.
///
/// Binary, not array literals: no quoting and escaping on either side, and numbers and
/// timestamps travel as the server stores them (the text forms cost the server a parse per
/// value and the client a format). NUL bytes are dropped from text, as `PostgresParameters`
/// does; a value of the wrong kind for its column is a programming error.
public struct PostgresArrayColumns: PostgresValues, Sendable {
    private let types: [PostgresElementType]
    /// The elements of each column, each as a 4-byte length (-1 for NULL) and its bytes.
    private var columns: [[UInt8]]
    private var hasNull: [Bool]
    private var column = 0
    public private(set) var rows = 0

    public init(types: [PostgresElementType], reservingBytes bytes: Int = 0) {
        self.types = types
        columns = Array(repeating: [], count: types.count)
        hasNull = Array(repeating: false, count: types.count)
        for index in columns.indices { columns[index].reserveCapacity(bytes / max(types.count, 1)) }
    }

    public mutating func append(_ value: String?) {
        guard let value else { return appendNull() }
        let type = types[column]
        precondition(type == .text || type == .jsonb, "text for a \(type) column")
        withElement { bytes in
            if type == .jsonb { bytes.append(1) } // jsonb's binary format: a version byte, then the text
            PostgresParameters.appendText(value, to: &bytes)
        }
    }

    public mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        switch types[column] {
        case .bigint: withElement { Self.appendBigEndian(UInt64(bitPattern: value), to: &$0) }
        // Seconds and counts beyond 2³¹ are nonsense, not a reason to refuse the lead: stored at the bound.
        case .integer: withElement { Self.appendBigEndian(UInt32(bitPattern: Int32(clamping: value)), to: &$0) }
        case let type: preconditionFailure("an integer for a \(type) column")
        }
    }

    public mutating func append(_ value: Int?) { append(value.map(Int64.init)) }

    /// Non-finite values become NULL, as in `PostgresParameters`.
    public mutating func append(_ value: Double?) {
        guard let value, value.isFinite else { return appendNull() }
        precondition(types[column] == .doublePrecision, "a double for a \(types[column]) column")
        withElement { Self.appendBigEndian(value.bitPattern, to: &$0) }
    }

    public mutating func append(_ value: Bool?) {
        guard let value else { return appendNull() }
        precondition(types[column] == .boolean, "a boolean for a \(types[column]) column")
        withElement { $0.append(value ? 1 : 0) }
    }

    /// Microseconds since 2000-01-01 UTC, the server's own representation.
    public mutating func append(_ value: Timestamp?) {
        guard let value else { return appendNull() }
        precondition(types[column] == .timestamptz, "a timestamp for a \(types[column]) column")
        let postgresEpoch: Int64 = 946_684_800_000_000
        withElement { Self.appendBigEndian(UInt64(bitPattern: value.microsecondsSinceEpoch &- postgresEpoch), to: &$0) }
    }

    /// The arrays as binary parameters, one per column (every row whole).
    public var parameters: PostgresParameters {
        precondition(column == 0, "a row is not whole: \(column) of \(columns.count) values")
        var parameters = PostgresParameters()
        parameters.reserve(values: columns.count, bytes: columns.reduce(0) { $0 + $1.count + 20 })
        for index in columns.indices {
            // array_send's layout: dimensions, null flag, element type, then (size, lower bound) per dimension.
            parameters.appendBinary { array in
                Self.appendBigEndian(UInt32(1), to: &array)
                Self.appendBigEndian(UInt32(hasNull[index] ? 1 : 0), to: &array)
                Self.appendBigEndian(types[index].oid, to: &array)
                Self.appendBigEndian(UInt32(rows), to: &array)
                Self.appendBigEndian(UInt32(1), to: &array)
                array.append(contentsOf: columns[index])
            }
        }
        return parameters
    }

    // MARK: Internals

    private mutating func appendNull() {
        hasNull[column] = true
        Self.appendBigEndian(UInt32(bitPattern: -1), to: &columns[column])
        advance()
    }

    /// Appends one element: its length, patched in after `body` writes its bytes.
    private mutating func withElement(_ body: (inout [UInt8]) -> Void) {
        let lengthAt = columns[column].count
        columns[column].append(contentsOf: [0, 0, 0, 0])
        body(&columns[column])
        let length = UInt32(columns[column].count - lengthAt - 4)
        for shift in 0..<4 { columns[column][lengthAt + shift] = UInt8(truncatingIfNeeded: length >> (24 - 8 * shift)) }
        advance()
    }

    private mutating func advance() {
        column += 1
        if column == columns.count {
            column = 0
            rows += 1
        }
    }

    private static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }
}
