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

    public var description: String {
        switch self {
        case .lineTooLong(let limit): "AMI line longer than \(limit) bytes; skipped to the next message"
        case .messageTooLong(let limit): "AMI message longer than \(limit) bytes; skipped to the next message"
        }
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
/// A line or message over the limits is reported once as `.malformed` and the decoder drops
/// bytes up to the next blank line, so one bad message never costs the connection.
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

    public let limits: Limits
    public let filter: AMIMessageFilter
    public private(set) var counters = Counters()

    private var buffer = ByteBuffer()
    /// Offsets from `buffer.readerIndex`: where the current message starts and where the next line starts.
    private var messageStart = 0
    private var scanOffset = 0
    private var fields: [AMIMessage.Field] = []
    private var mode = Mode.reading
    private var currentIsVarSet = false

    public init(limits: Limits = Limits(), filter: AMIMessageFilter = .all) {
        self.limits = limits
        self.filter = filter
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
            let message = AMIMessage(bytes: bytes, fields: fields)
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
                if midLine { mode = .discarding(midLine: false) } else if isBlank { mode = .reading }
                messageStart = scanOffset
                continue
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

            let lineLength = contentEnd - lineStart
            guard let colon = memchr(base + lineStart, Int32(UInt8(ascii: ":")), lineLength) else {
                if fields.isEmpty {  // the banner, the only line AMI sends without a colon outside command output
                    messageStart = scanOffset
                    return .banner(start: lineStart, length: lineLength)
                }
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

    private static let eventKey = Array("event".utf8)
    private static let variableKey = Array("variable".utf8)
    private static let varSetName = Array("varset".utf8)
}
