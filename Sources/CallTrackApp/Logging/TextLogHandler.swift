import CallTrackCore
import Foundation
import Logging

/// One line per event, as people read them on a terminal (`log.format: text`):
/// `2026-11-24T18:31:08+0300 info calltrackd: error="disk full" site=acme [HTTPAPI] session assigned`.
///
/// Every text is escaped, because much of it is a client's (a snippet's error report, an id, a URL): a
/// backslash is doubled, newline, return and tab are `\n`, `\r`, `\t`, and every other control character or
/// line break (C0, DEL, C1, U+2028, U+2029) is `\u{…}`, so no request can start a line of its own or send a
/// terminal an escape sequence. A metadata value with a space, `=` or `"` is quoted, so it cannot pose as
/// another field.
public struct TextLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String
    let write: @Sendable (String) -> Void

    /// `write` gets each line with its newline; standard error unless told otherwise.
    public init(label: String, write: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        if let error = event.error { fields["error"] = "\(error)" }
        var line = "\(Self.timestamp()) \(event.level) \(Self.escaped(label)):"
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) {
            line += " \(Self.escaped(key))=\(Self.field("\(value)"))"
        }
        line += " [\(Self.escaped(event.source))] \(Self.escaped("\(event.message)"))\n"
        write(line)
    }

    /// `text` with a backslash doubled and every control character or line break written as an escape.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0 == "\\" || $0.isControlOrLineBreak }) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out.append(contentsOf: #"\\"#.unicodeScalars)
            case "\n": out.append(contentsOf: #"\n"#.unicodeScalars)
            case "\r": out.append(contentsOf: #"\r"#.unicodeScalars)
            case "\t": out.append(contentsOf: #"\t"#.unicodeScalars)
            case _ where scalar.isControlOrLineBreak:
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    /// A metadata value: escaped, and quoted (with `\"` inside) when it has a space, `=` or `"`.
    static func field(_ value: String) -> String {
        let text = escaped(value)
        guard text.isEmpty || text.utf8.contains(where: { $0 == 0x20 || $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\"") }) else {
            return text
        }
        return "\"" + text.replacingOccurrences(of: "\"", with: #"\""#) + "\""
    }

    /// Local time with its offset, to the second: `2026-11-24T18:31:08+0300`.
    static func timestamp() -> String {
        var now = time(nil)
        var local = tm()
        localtime_r(&now, &local)
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
