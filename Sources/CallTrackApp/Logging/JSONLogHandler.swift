import Foundation
import Logging

/// One JSON object per line on stderr: `{"ts":…,"level":…,"label":…,"msg":…, metadata…}` — for log shippers.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    let label: String

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        fields["ts"] = Date().ISO8601Format(.iso8601.time(includingFractionalSeconds: true).year().month().day())
        fields["level"] = event.level.rawValue
        fields["label"] = label
        fields["msg"] = "\(event.message)"
        guard let json = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]) else { return }
        var line = Self.escapingInvisibleControls(json)
        line.append(0x0A)
        FileHandle.standardError.write(line)
    }

    /// JSONSerialization escapes C0 controls but writes DEL, the C1 controls (U+009B is a terminal's CSI) and
    /// U+2028/U+2029 as raw UTF-8: legal JSON, yet a person tailing the log in a terminal would have them acted
    /// on. Such bytes only occur inside JSON strings, where `\uXXXX` means the same character.
    public static func escapingInvisibleControls(_ json: Data) -> Data {
        let bytes = [UInt8](json)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func escape(_ scalar: UInt32) {
            let hex = String(scalar, radix: 16)
            out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x7F {
                escape(0x7F)
                index += 1
            } else if byte == 0xC2, index + 1 < bytes.count, (0x80...0x9F).contains(bytes[index + 1]) {
                escape(UInt32(bytes[index + 1]))
                index += 2
            } else if byte == 0xE2, index + 2 < bytes.count, bytes[index + 1] == 0x80, bytes[index + 2] == 0xA8 || bytes[index + 2] == 0xA9 {
                escape(bytes[index + 2] == 0xA8 ? 0x2028 : 0x2029)
                index += 3
            } else {
                out.append(byte)
                index += 1
            }
        }
        return Data(out)
    }
}
