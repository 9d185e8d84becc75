import NIOCore

/// Lines out of the bytes a FastAGI peer sends, with a length cap; no I/O.
///
/// ```
/// buffer "agi_network: yes\nagi_req"   next() -> .line("agi_network: yes"), nil (waits for the rest)
/// buffer "uest: agi://h/route\r\n\n"   next() -> .line("agi_request: agi://h/route"), .line("")
/// ```
/// Lines end in `\n` (Asterisk's) or `\r\n`. Bytes that are not UTF-8 are read with U+FFFD in their
/// place and counted. A line longer than `maxLineBytes` is `.tooLong` as soon as that many bytes
/// have come without a newline, so a peer cannot make the server hold more than the cap.
public struct AGILineReader: Sendable {
    public let maxLineBytes: Int
    /// Lines that were not valid UTF-8.
    public private(set) var invalidUTF8 = 0

    public enum Output: Sendable, Equatable {
        case line(String)
        case tooLong
    }

    public init(maxLineBytes: Int = 4096) { self.maxLineBytes = maxLineBytes }

    /// The next complete line of `buffer` (consumed), `.tooLong`, or nil when more bytes are needed.
    public mutating func next(from buffer: inout ByteBuffer) -> Output? {
        let view = buffer.readableBytesView
        let limit = min(view.count, maxLineBytes + 1)
        guard let newline = view.prefix(limit).firstIndex(of: UInt8(ascii: "\n")) else {
            return view.count > maxLineBytes ? .tooLong : nil
        }
        let length = newline - view.startIndex
        var bytes = buffer.readSlice(length: length + 1)!
        var content = bytes.readBytes(length: length)!
        if content.last == UInt8(ascii: "\r") { content.removeLast() }
        if let text = String(validating: content, as: UTF8.self) { return .line(text) }
        invalidUTF8 += 1
        return .line(String(decoding: content, as: UTF8.self))
    }
}
