/// Text repairs for values that come from the outside world (AMI caller names, user agents).
public enum LeadText {
    /// Bytes as text: invalid UTF-8 becomes U+FFFD, NUL bytes are dropped.
    public static func repaired(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.lazy.filter { $0 != 0 }, as: UTF8.self)
    }

    /// At most `maxBytes` of UTF-8, cut between Unicode scalars.
    public static func truncated(_ text: String, maxBytes: Int) -> String {
        guard text.utf8.count > maxBytes else { return text }
        var kept = String.UnicodeScalarView()
        var bytes = 0
        for scalar in text.unicodeScalars {
            bytes += UTF8.width(scalar)
            if bytes > maxBytes { break }
            kept.append(scalar)
        }
        return String(kept)
    }

    /// JSON text with every `\u0000` escape replaced by `\ufffd` (jsonb refuses `\u0000`).
    public static func jsonWithoutNUL(_ json: String) -> String {
        var json = json
        guard json.withUTF8({ $0.contains(UInt8(ascii: "\\")) }) else { return json }
        var bytes = Array(json.utf8)
        var index = 0
        var changed = false
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count else { index += 1; continue }
            if bytes[index + 1] == UInt8(ascii: "u"), index + 5 < bytes.count,
               bytes[(index + 2)...(index + 5)].elementsEqual("0000".utf8) {
                bytes.replaceSubrange((index + 2)...(index + 5), with: "fffd".utf8)
                changed = true
            }
            index += 2 // skip the escaped character, so `\\u0000` (a backslash, then text) is left alone
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : json
    }
}
