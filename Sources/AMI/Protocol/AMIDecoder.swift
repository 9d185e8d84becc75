#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// Why the decoder refused some bytes. The decoder carries on at the next blank line.
public enum AMIDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    case lineTooLong(limit: Int)
    case messageTooLong(limit: Int)
    /// A line where a message must begin that is not `Event: …` or `Response: …` (garbage, a stray
    /// line without a colon, binary bytes). `excerpt` is its start, escaped for a log line.
    case notAMessage(excerpt: String)

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "AMI line longer than \(limit) bytes; skipped to the next message"
        case .messageTooLong(let limit): "AMI message longer than \(limit) bytes; skipped to the next message"
        case .notAMessage: "AMI bytes that do not begin a message (no 'Event:' or 'Response:'); skipped to the next message"
        }
    }

    /// What the refused bytes looked like, for the log (empty for the size limits).
    public var excerpt: String {
        if case .notAMessage(let excerpt) = self { return excerpt }
        return ""
    }
}

/// Bytes in, AMI messages out; no I/O.
///
/// Feed it whatever the socket delivered, then drain `next()` until nil:
/// ```
/// feed "Asterisk Call Manager/9.0.0\r\nResponse: Succ"   next() -> .banner("Asterisk Call Manager/9.0.0"), nil
/// feed "ess\r\nActionID: ct-1\r\n\r\nEvent: Hang"         next() -> .message(Response: Success, ActionID: ct-1), nil
/// ```
/// Lines end in `\r\n` or `\n`; keys keep their case (lookups ignore it); a value keeps any colons.
///
/// The banner is the first line of a connection and only that: a line without a colon anywhere
/// else is not a banner. A message begins with `Event:` or `Response:`, as every message Asterisk
/// sends does; anything else where a message must begin (a stray line, binary garbage) is reported
/// once as `.malformed(.notAMessage)`. So is a line or message over the limits. After a refusal the
/// decoder drops bytes up to the next blank line or the next `Event:`/`Response:` line, whichever
/// comes first, so bad bytes never cost the connection or the messages after them:
/// ```
/// feed "Event: A\r\n\r\nthis line has no colon\r\nEvent: B\r\n\r\n"
///      next() -> .message(Event: A), .malformed(.notAMessage("this line has no colon")), .message(Event: B)
/// ```
/// Memory stays under `maxMessageBytes` plus the largest chunk fed.
public struct AMIDecoder: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxLineBytes: Int
        public var maxMessageBytes: Int
        public init(maxLineBytes: Int = 8 * 1024, maxMessageBytes: Int = 64 * 1024) {
            self.maxLineBytes = maxLineBytes
            self.maxMessageBytes = maxMessageBytes
        }
    }

    public enum Output: Sendable, Equatable {
        /// `Asterisk Call Manager/9.0.0`: the first line of every connection (no blank line after it).
        case banner(String)
        case message(AMIMessage)
        case malformed(AMIDecodingError)
    }

    public struct Counters: Sendable, Equatable {
        public var bytes = 0
        public var messages = 0
        public var banners = 0
        /// Events dropped by the filter.
        public var skipped = 0
        public var malformed = 0
        /// Messages delivered whose bytes are not valid UTF-8 (kept as sent; see `AMIMessage.isValidUTF8`).
        public var invalidUTF8 = 0
    }

    private enum Mode: Equatable {
        case reading
        /// Inside an event the filter drops: look only for its end.
        case skipping
        /// After a refused line or message: drop up to a blank line. `midLine` while the refused line has not ended.
        case discarding(midLine: Bool)
    }

    private enum Step {
        case needMore
        case banner(start: Int, length: Int)
        case message(length: Int)
        case malformed(AMIDecodingError)
    }

    /// Which side of the connection the bytes come from, and so what begins a message.
    public enum Sender: Sendable, Equatable {
        /// Asterisk: a banner, then messages that begin with `Event:` or `Response:`.
        case asterisk
        /// A manager client (read by a fake Asterisk in tests): messages that begin with `Action:`, no banner.
        case client
    }

    public let limits: Limits
    public let filter: AMIMessageFilter
    public let sender: Sender
    public private(set) var counters = Counters()

    private var buffer = ByteBuffer()
    /// Offsets from `buffer.readerIndex`: where the current message starts and where the next line starts.
    private var messageStart = 0
    private var scanOffset = 0
    private var fields: [AMIMessage.Field] = []
    private var mode = Mode.reading
    private var currentIsVarSet = false
    /// True until the first line of the connection has been read: only that line can be the banner.
    private var expectingBanner: Bool
    /// The keys a message may begin with, lowercased, and how they are spelt on the wire.
    private let firstKeys: [[UInt8]]
    private let messageMarkers: [[UInt8]]

    public init(limits: Limits = Limits(), filter: AMIMessageFilter = .all, sender: Sender = .asterisk) {
        self.limits = limits
        self.filter = filter
        self.sender = sender
        firstKeys = sender == .asterisk ? [Self.eventKey, Self.responseKey] : [Self.actionKey]
        messageMarkers = sender == .asterisk ? [Array("Event: ".utf8), Array("Response: ".utf8)] : [Array("Action: ".utf8)]
        expectingBanner = sender == .asterisk
        fields.reserveCapacity(32)
    }

    /// Forgets a partial message: call on every new connection.
    public mutating func reset() {
        buffer.clear()
        messageStart = 0
        scanOffset = 0
        fields.removeAll(keepingCapacity: true)
        mode = .reading
        currentIsVarSet = false
        expectingBanner = sender == .asterisk
    }

    /// Bytes held for a message still incomplete.
    public var bufferedBytes: Int { buffer.readableBytes }

    public mutating func feed(_ bytes: ByteBuffer) {
        counters.bytes += bytes.readableBytes
        if buffer.readableBytes == 0 {
            // Nothing pending: adopt the chunk as is, with no copy and no write into storage that
            // messages already handed out may still share.
            buffer = bytes
        } else {
            var bytes = bytes
            if buffer.readerIndex >= 64 * 1024 { buffer.discardReadBytes() }
            buffer.writeBuffer(&bytes)
        }
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        feed(ByteBuffer(bytes: bytes))
    }

    /// The next banner, message or error; nil when more bytes are needed.
    public mutating func next() -> Output? {
        let storage = buffer
        let step = storage.withUnsafeReadableBytes { scan($0) }
        switch step {
        case .needMore:
            consume(messageStart)
            return nil
        case .banner(let start, let length):
            let text = storage.getString(at: storage.readerIndex + start, length: length) ?? ""
            consume(messageStart)
            counters.banners += 1
            return .banner(text)
        case .message(let length):
            let bytes = storage.getSlice(at: storage.readerIndex + messageStart, length: length)!
            let valid = bytes.withUnsafeReadableBytes(isValidUTF8)
            if !valid { counters.invalidUTF8 += 1 }
            let message = AMIMessage(bytes: bytes, fields: fields, isValidUTF8: valid)
            fields.removeAll(keepingCapacity: true)
            messageStart = scanOffset
            consume(messageStart)
            counters.messages += 1
            return .message(message)
        case .malformed(let error):
            consume(messageStart)
            counters.malformed += 1
            return .malformed(error)
        }
    }

    /// Runs `body` for every output the buffered bytes complete.
    public mutating func drain(_ body: (Output) throws -> Void) rethrows {
        while let output = next() { try body(output) }
    }

    private mutating func consume(_ count: Int) {
        guard count > 0 else { return }
        buffer.moveReaderIndex(forwardBy: count)
        scanOffset -= count
        messageStart -= count
    }

    private mutating func scan(_ raw: UnsafeRawBufferPointer) -> Step {
        guard let base = raw.baseAddress else { return .needMore }
        while true {
            let remaining = raw.count - scanOffset
            guard remaining > 0, let newline = memchr(base + scanOffset, 0x0A, remaining) else {
                return pendingLine(raw.count)
            }
            let lineStart = scanOffset
            let lineEnd = UnsafeRawPointer(newline) - base
            var contentEnd = lineEnd
            if contentEnd > lineStart, raw[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            scanOffset = lineEnd + 1
            let isBlank = contentEnd == lineStart

            switch mode {
            case .discarding(let midLine):
                if !midLine, !isBlank, lineEnd - lineStart <= limits.maxLineBytes, beginsMessage(raw, lineStart, contentEnd) {
                    mode = .reading  // the next message, with no blank line after the bad bytes: read this line
                    messageStart = lineStart
                } else {
                    mode = midLine || !isBlank ? .discarding(midLine: false) : .reading
                    messageStart = scanOffset
                    continue
                }
            case .skipping:
                if isBlank {
                    counters.skipped += 1
                    mode = .reading
                    messageStart = scanOffset
                } else if scanOffset - messageStart > limits.maxMessageBytes {
                    return refuse(.messageTooLong(limit: limits.maxMessageBytes), midLine: false)
                }
                continue
            case .reading:
                break
            }

            if isBlank {
                if fields.isEmpty {  // blank lines between messages
                    messageStart = scanOffset
                    continue
                }
                if currentIsVarSet, filter.filtersVariables, !keepsVariable(raw) {
                    counters.skipped += 1
                    fields.removeAll(keepingCapacity: true)
                    messageStart = scanOffset
                    continue
                }
                return .message(length: scanOffset - messageStart)
            }
            if lineEnd - lineStart > limits.maxLineBytes {
                return refuse(.lineTooLong(limit: limits.maxLineBytes), midLine: false)
            }
            if scanOffset - messageStart > limits.maxMessageBytes {
                return refuse(.messageTooLong(limit: limits.maxMessageBytes), midLine: false)
            }

            if fields.isEmpty {
                if expectingBanner {
                    expectingBanner = false
                    if memchr(base + lineStart, Int32(UInt8(ascii: ":")), contentEnd - lineStart) == nil {
                        messageStart = scanOffset
                        return .banner(start: lineStart, length: contentEnd - lineStart)
                    }
                }
                if !beginsMessage(raw, lineStart, contentEnd) {
                    let refused = notAMessage(raw, lineStart, contentEnd)
                    // Garbage with no line end of its own runs into the next message's first line:
                    // the message starts where `Event:`/`Response:` does.
                    guard let start = messageBeginning(in: raw, lineStart, contentEnd) else {
                        return refuse(refused, midLine: false)
                    }
                    scanOffset = start  // read the line again from there
                    messageStart = start
                    return .malformed(refused)
                }
            }
            let lineLength = contentEnd - lineStart
            guard let colon = memchr(base + lineStart, Int32(UInt8(ascii: ":")), lineLength) else {
                // Inside a message: command output from older Asterisk versions, kept as a value with no key.
                fields.append(field(keyStart: lineStart, keyEnd: lineStart, valueStart: lineStart, valueEnd: contentEnd))
                continue
            }
            let keyEnd = UnsafeRawPointer(colon) - base
            var valueStart = keyEnd + 1
            while valueStart < contentEnd, raw[valueStart] == 0x20 || raw[valueStart] == 0x09 { valueStart += 1 }

            if fields.isEmpty {
                let key = UnsafeRawBufferPointer(rebasing: raw[lineStart..<keyEnd])
                currentIsVarSet = false
                if matchesLowercased(key, Self.eventKey) {
                    let name = UnsafeRawBufferPointer(rebasing: raw[valueStart..<contentEnd])
                    if !filter.keepsEvent(name) {
                        mode = .skipping
                        continue
                    }
                    currentIsVarSet = matchesLowercased(name, Self.varSetName)
                }
            }
            fields.append(field(keyStart: lineStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: contentEnd))
        }
    }

    /// No newline in what is left: refuse a line or message that is already too long, else wait.
    private mutating func pendingLine(_ count: Int) -> Step {
        let pending = count - scanOffset
        if case .discarding = mode {
            if pending > limits.maxLineBytes {  // drop the partial line too, remembering we are inside it
                scanOffset = count
                messageStart = count
                mode = .discarding(midLine: true)
            }
            return .needMore
        }
        if pending > limits.maxLineBytes {
            scanOffset = count
            return refuse(.lineTooLong(limit: limits.maxLineBytes), midLine: true)
        }
        if count - messageStart > limits.maxMessageBytes {
            scanOffset = count
            return refuse(.messageTooLong(limit: limits.maxMessageBytes), midLine: true)
        }
        return .needMore
    }

    private mutating func refuse(_ error: AMIDecodingError, midLine: Bool) -> Step {
        fields.removeAll(keepingCapacity: true)
        mode = .discarding(midLine: midLine)
        messageStart = scanOffset
        return .malformed(error)
    }

    private func keepsVariable(_ raw: UnsafeRawBufferPointer) -> Bool {
        for field in fields {
            let keyStart = messageStart + Int(field.keyStart)
            let key = UnsafeRawBufferPointer(rebasing: raw[keyStart..<keyStart + Int(field.keyLength)])
            if matchesLowercased(key, Self.variableKey) {
                let valueStart = messageStart + Int(field.valueStart)
                return filter.keepsVariable(UnsafeRawBufferPointer(rebasing: raw[valueStart..<valueStart + Int(field.valueLength)]))
            }
        }
        return true
    }

    private func field(keyStart: Int, keyEnd: Int, valueStart: Int, valueEnd: Int) -> AMIMessage.Field {
        AMIMessage.Field(
            keyStart: Int32(keyStart - messageStart), keyLength: Int32(keyEnd - keyStart),
            valueStart: Int32(valueStart - messageStart), valueLength: Int32(valueEnd - valueStart)
        )
    }

    /// True when the line is `Event: …` or `Response: …` (any case), the first line of every message
    /// Asterisk sends (`Action: …` from a client).
    private func beginsMessage(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Bool {
        for key in firstKeys where end - start > key.count && raw[start + key.count] == UInt8(ascii: ":") {
            if matchesLowercased(UnsafeRawBufferPointer(rebasing: raw[start..<start + key.count]), key) { return true }
        }
        return false
    }

    /// Where `Event: ` or `Response: ` begins inside a refused line, if it does after the start.
    private func messageBeginning(in raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> Int? {
        let line = UnsafeRawBufferPointer(rebasing: raw[start..<end])
        var best: Int?
        for marker in messageMarkers {
            if let found = line.firstRange(of: marker)?.lowerBound, found > 0, found < (best ?? Int.max) { best = found }
        }
        return best.map { start + $0 }
    }

    /// The refused line's start, printable ASCII kept and every other byte as `\xNN`, for a log line.
    private func notAMessage(_ raw: UnsafeRawBufferPointer, _ start: Int, _ end: Int) -> AMIDecodingError {
        .notAMessage(excerpt: AMIDecoder.escaped(UnsafeRawBufferPointer(rebasing: raw[start..<end])))
    }

    /// Up to `limit` bytes shown safely in a log: printable ASCII as is, anything else as `\xNN`.
    public static func escaped(_ bytes: some Collection<UInt8>, limit: Int = 48) -> String {
        var text = ""
        for byte in bytes.prefix(limit) {
            if byte >= 0x20, byte < 0x7F, byte != UInt8(ascii: "\\") {
                text.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                text += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        if bytes.count > limit { text += "…" }
        return text
    }

    /// Plain ASCII (the usual case) is checked eight bytes at a time; anything else is validated.
    private func isValidUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index + 8 <= raw.count {
            if raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 {
                return String(validating: raw, as: UTF8.self) != nil
            }
            index += 8
        }
        while index < raw.count {
            if raw[index] >= 0x80 { return String(validating: raw, as: UTF8.self) != nil }
            index += 1
        }
        return true
    }

    private static let actionKey = Array("action".utf8)
    private static let responseKey = Array("response".utf8)
    private static let eventKey = Array("event".utf8)
    private static let variableKey = Array("variable".utf8)
    private static let varSetName = Array("varset".utf8)
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
