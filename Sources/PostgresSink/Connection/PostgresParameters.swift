/// The `$1…$n` values of one command, in text format, packed into one buffer of NUL-terminated
/// strings (one allocation for thousands of parameters, as libpq wants them).
///
/// PostgreSQL text can never hold a NUL byte, so NULs are dropped here: a caller name with a
/// stray `\0` is stored without it instead of failing its batch.
public struct PostgresParameters: Sendable {
    private var bytes: [UInt8] = []
    /// Start of each value in `bytes`; -1 for SQL NULL.
    private var offsets: [Int] = []

    public init() {}

    public init(_ values: [String?]) {
        for value in values { append(value) }
    }

    public var count: Int { offsets.count }

    public mutating func reserve(values: Int, bytes: Int) {
        offsets.reserveCapacity(values)
        self.bytes.reserveCapacity(bytes)
    }

    public mutating func append(_ value: String?) {
        guard let value else { return appendNull() }
        offsets.append(bytes.count)
        var text = value
        text.withUTF8 { utf8 in
            if utf8.contains(0) {
                for byte in utf8 where byte != 0 { bytes.append(byte) }
            } else {
                bytes.append(contentsOf: utf8)
            }
        }
        bytes.append(0)
    }

    public mutating func append(_ value: Int64?) {
        guard let value else { return appendNull() }
        offsets.append(bytes.count)
        bytes.append(contentsOf: String(value).utf8)
        bytes.append(0)
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

    public mutating func appendNull() { offsets.append(-1) }

    /// Calls `body` with libpq's `paramValues` array; the pointers live only during the call.
    func withValuePointers<T>(_ body: (UnsafePointer<UnsafePointer<CChar>?>?) throws -> T) rethrows -> T {
        try bytes.withUnsafeBufferPointer { buffer in
            try buffer.withMemoryRebound(to: CChar.self) { chars in
                let base = chars.baseAddress
                let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                    guard offset >= 0, let base else { return nil }
                    return base + offset
                }
                return try pointers.withUnsafeBufferPointer { try body($0.baseAddress) }
            }
        }
    }
}

extension PostgresParameters: ExpressibleByArrayLiteral {
    public init(arrayLiteral values: String?...) { self.init(values) }
}
