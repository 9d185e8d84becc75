import AMI
import CallTrackCore
import Testing
import TestSupport

/// Random and mangled bytes: no crash, bounded memory, and the decoder keeps going.
@Suite("Codec fuzzing", .cpuBound)
struct DecoderFuzzTests {
    private static let alphabet: [UInt8] = Array("Event: VarSet\r\nLinkedid: 1.2\r\nUniqueid: 1.2\r\nContext: from-trunk\r\n\r\n".utf8) + [0x00, 0xFF, 0xC3, 0x0A, 0x0D, 0x3A]

    @Test("random bytes in random chunks", arguments: UInt64(1)...20)
    func randomBytes(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        let limits = AMIDecoder.Limits(maxLineBytes: 64, maxMessageBytes: 512)
        var pipeline = Pipeline(filtered: seed.isMultiple(of: 2), limits: limits)
        for _ in 0..<2_000 {
            let count = Int.random(in: 1...300, using: &random)
            let chunk = (0..<count).map { _ in
                random.next() % 4 == 0 ? UInt8.random(in: 0...255, using: &random) : Self.alphabet.randomElement(using: &random)!
            }
            pipeline.feed(chunk)
            #expect(pipeline.decoder.bufferedBytes <= limits.maxMessageBytes + count)
        }
        // after any garbage, a blank line and a real message still decode
        pipeline.feed(Array("\r\n\r\n\r\nEvent: Newchannel\r\nChannel: SIP/trunk-1\r\nContext: from-trunk\r\nExten: 74950000001\r\nCallerIDNum: 89161234567\r\nUniqueid: 9.9\r\nLinkedid: 9.9\r\n\r\n".utf8))
        #expect(pipeline.events.last?.call.id == "9.9")
    }

    @Test("real transcripts with bytes flipped, dropped and repeated", arguments: UInt64(1)...12)
    func mangledTranscripts(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        var bytes = try AMIFixtures.load("11-mixed-traffic").bytes
        for _ in 0..<2_000 {
            let index = Int.random(in: 0..<bytes.count, using: &random)
            switch random.next() % 3 {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 1: bytes.remove(at: index)
            default: bytes.insert(contentsOf: bytes[index..<min(bytes.count, index + 40)], at: index)
            }
        }
        var pipeline = Pipeline(limits: .init(maxLineBytes: 256, maxMessageBytes: 4096))
        var checked = 0
        for piece in chunks(bytes, sizes: { Int.random(in: 1...2048, using: &random) }) {
            pipeline.feed(piece)
            #expect(pipeline.decoder.bufferedBytes <= 4096 + 2048)
            checked += piece.count
        }
        #expect(checked == bytes.count)
        // calls still in progress are only those whose Hangup was mangled away: never more than were started
        let started = pipeline.events.filter { if case .started = $0 { true } else { false } }.count
        #expect(pipeline.assembler.callsInProgress <= started)
        #expect(pipeline.ended.count > 20, "most of the 40 calls survive 2,000 random edits")
    }
}
