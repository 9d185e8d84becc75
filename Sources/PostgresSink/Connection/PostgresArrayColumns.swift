/// Values written as PostgreSQL text, in column order: one parameter per value (`PostgresParameters`)
/// or one array per column (`PostgresArrayColumns`).
public protocol PostgresTextValues {
    mutating func append(_ value: String?)
    mutating func append(_ value: Int64?)
    mutating func append(_ value: Int?)
    mutating func append(_ value: Double?)
    mutating func append(_ value: Bool?)
}

extension PostgresParameters: PostgresTextValues {}

/// One array literal per column (`{"a","b",NULL}`), filled row by row: a batch of any size becomes
/// one parameter per column for `unnest`, so the server parses a few long values instead of tens of
/// thousands of parameters and a statement as long as the batch.
///
/// Every element is quoted, which is valid for every element type; NUL bytes are dropped, as
/// `PostgresParameters` does.
public struct PostgresArrayColumns: PostgresTextValues, Sendable {
    private var columns: [[UInt8]]
    private var column = 0
    public private(set) var rows = 0

    public init(width: Int, reservingBytes bytes: Int = 0) {
        columns = Array(repeating: [UInt8(ascii: "{")], count: width)
        for index in columns.indices { columns[index].reserveCapacity(bytes / max(width, 1)) }
    }

    public mutating func append(_ value: String?) { appendElement(value) }
    public mutating func append(_ value: Int64?) { appendElement(value.map { String($0) }) }
    public mutating func append(_ value: Int?) { appendElement(value.map { String($0) }) }
    public mutating func append(_ value: Double?) { appendElement(value.flatMap { $0.isFinite ? "\($0)" : nil }) }
    public mutating func append(_ value: Bool?) { appendElement(value.map { $0 ? "t" : "f" }) }

    /// The arrays as parameters, one per column; only whole rows count.
    public var parameters: PostgresParameters {
        var parameters = PostgresParameters()
        parameters.reserve(values: columns.count, bytes: columns.reduce(0) { $0 + $1.count + 2 })
        for bytes in columns { parameters.append(String(decoding: bytes + [UInt8(ascii: "}")], as: UTF8.self)) }
        return parameters
    }

    private mutating func appendElement(_ text: String?) {
        Self.write(text, to: &columns[column])
        column += 1
        if column == columns.count {
            column = 0
            rows += 1
        }
    }

    private static func write(_ text: String?, to bytes: inout [UInt8]) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        guard let text else { return bytes.append(contentsOf: "NULL".utf8) }
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 where byte != 0 {
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { bytes.append(UInt8(ascii: "\\")) }
            bytes.append(byte)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
