import AGI
import AMI
import CallTrackCore
import NIOCore

/// What the fuzzer drives: the two parsers that read bytes from the network, each fed the input in chunks whose
/// sizes the input's first bytes choose (TCP may cut anywhere), with the promises they make checked after every
/// chunk. A broken promise or a crash is a finding; `Tests/Fuzz/<target>/` keeps the inputs worth replaying.
enum FuzzTarget: String, CaseIterable {
    case ami
    case agi

    func run(_ input: [UInt8]) {
        switch self {
        case .ami: Self.ami(input)
        case .agi: Self.agi(input)
        }
    }

    /// The input cut into chunks: each chunk's length is the next byte (1 to 256), then that many bytes.
    static func chunks(_ input: [UInt8]) -> [ArraySlice<UInt8>] {
        var chunks: [ArraySlice<UInt8>] = []
        var index = 0
        while index < input.count {
            let length = Int(input[index]) + 1
            let start = index + 1
            let end = min(input.count, start + length)
            if start < end { chunks.append(input[start..<end]) }
            index = end
        }
        return chunks
    }

    /// AMI: the decoder never holds more than a message's limit plus the chunk it was just given, and the calls
    /// assembled from whatever decodes never end twice.
    static func ami(_ input: [UInt8]) {
        let limits = AMIDecoder.Limits(maxLineBytes: 128, maxMessageBytes: 1024)
        var assembler = CallAssembler(settings: CallAssemblerSettings())
        var decoder = AMIDecoder(limits: limits, filter: input.first.map { $0 & 1 == 0 } ?? true ? assembler.messageFilter : .all)
        var events: [CallEvent] = []
        var ended: Set<String> = []
        let time = Timestamp(microsecondsSinceEpoch: 1_800_000_000_000_000)
        for chunk in chunks(input) {
            decoder.feed(chunk)
            while let output = decoder.next() {
                if case .message(let message) = output { assembler.process(message, arrivedAt: time, into: &events) }
            }
            precondition(decoder.bufferedBytes <= limits.maxMessageBytes + chunk.count, "the AMI decoder buffered \(decoder.bufferedBytes) bytes")
            for event in events {
                if case .ended(let call) = event { precondition(ended.insert(call.id).inserted, "call \(call.id) ended twice") }
            }
            events.removeAll(keepingCapacity: true)
        }
    }

    /// FastAGI: the line reader never returns a line read from more bytes than its limit, and the session ends at
    /// most once and never asks for a decision twice.
    static func agi(_ input: [UInt8]) {
        var reader = AGILineReader(maxLineBytes: 256)
        var session = AGISession(limits: AGISession.Limits(maxHeadLines: 32))
        var buffer = ByteBuffer()
        var decisions = 0, closes = 0
        func handle(_ action: AGISession.Action) {
            switch action {
            case .decide:
                decisions += 1
                handle(session.decided([(name: "CT_DEALER", value: "fuzz"), (name: "CT_DIAL", value: "PJSIP/fuzz")]))
            case .close: closes += 1
            case .none, .send: break
            }
        }
        for chunk in chunks(input) {
            buffer.writeBytes(chunk)
            while !session.isDone, let output = reader.next(from: &buffer) {
                switch output {
                case .line(let line):
                    // Each byte read gives at most one scalar (an invalid one becomes U+FFFD, three bytes in UTF-8).
                    precondition(line.unicodeScalars.count <= reader.maxLineBytes, "a line of \(line.unicodeScalars.count) scalars passed the limit")
                    handle(session.lineReceived(line))
                case .tooLong:
                    handle(session.lineTooLong())
                }
            }
            precondition(decisions <= 1 && closes <= 1, "\(decisions) decisions and \(closes) closes in one session")
        }
        handle(session.peerClosed())
        precondition(closes == 1, "a session that saw its peer close ended \(closes) times")
    }
}
