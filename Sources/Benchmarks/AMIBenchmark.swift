#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import AMI
import ArgumentParser
import CallTrackCore
import Foundation
import NIOCore

/// Events/s and MB/s through codec + call assembler on a large stream built from a real transcript,
/// against the ceiling of a loop that only splits the same bytes into lines and messages.
struct AMIBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ami",
        abstract: "AMI parse and process rate (target: >= 10% of the line-splitting ceiling, ~1M events/s; memory flat)."
    )

    @Option(help: "The transcript to repeat (default: Tests/Fixtures/ami/11-mixed-traffic.ami).")
    var transcript: String?

    @Option(help: "Copies of the transcript in the stream (each with its own Linkedids).")
    var copies = 2_000

    @Option(help: "Bytes per read, as a socket would deliver them.")
    var chunk = 64 * 1024

    func run() async throws {
        let path = transcript ?? Self.defaultTranscript()
        let copy = try Self.afterLogin([UInt8](Data(contentsOf: URL(fileURLWithPath: path))))
        // A few renumbered variants cycled `copies` times: calls end inside each copy, so a Linkedid
        // reused one cycle later is a new call, as it would be after Asterisk's counter wrapped.
        let variants = (0..<16).map { Self.renumbered(copy, variant: $0) }
        let chunks = variants.map { Self.chunked($0, size: chunk) }
        let totalBytes = copy.count * copies
        print("AMI benchmark: \(path.split(separator: "/").last ?? "")  \(copy.count) bytes x \(copies) copies = \(totalBytes / 1_000_000) MB, reads of \(chunk) bytes")

        let ceiling = measure(copies: copies, chunks: chunks) { chunk, counts in Self.splitOnly(chunk, &counts) }

        var decoder = AMIDecoder()
        var assembler = CallAssembler()
        decoder = AMIDecoder(filter: assembler.messageFilter)
        var out: [CallEvent] = []
        out.reserveCapacity(64)
        var ended = 0
        let rssBefore = Self.residentBytes()
        var rssPeak = rssBefore
        let now = Timestamp(secondsSinceEpoch: 1_800_000_000)
        let full = measure(copies: copies, chunks: chunks) { chunk, counts in
            decoder.feed(chunk)
            while let output = decoder.next() {
                if case .message(let message) = output { assembler.process(message, arrivedAt: now, into: &out) }
            }
            for event in out { if case .ended = event { ended += 1 } }
            out.removeAll(keepingCapacity: true)
            counts.chunks += 1
            if counts.chunks % 4096 == 0 { rssPeak = max(rssPeak, Self.residentBytes()) }
        }
        let events = decoder.counters.messages + decoder.counters.skipped
        print(row("ceiling: split lines and messages", ceiling.seconds, bytes: totalBytes, events: events))
        print(row("codec + assembler (filtered)", full.seconds, bytes: totalBytes, events: events))
        print("    decoded \(decoder.counters.messages), skipped unparsed \(decoder.counters.skipped), calls ended \(ended), in progress at end \(assembler.callsInProgress)")

        var unfilteredDecoder = AMIDecoder()
        var unfilteredAssembler = CallAssembler()
        let unfiltered = measure(copies: max(1, copies / 4), chunks: chunks) { chunk, _ in
            unfilteredDecoder.feed(chunk)
            while let output = unfilteredDecoder.next() {
                if case .message(let message) = output { unfilteredAssembler.process(message, arrivedAt: now, into: &out) }
            }
            out.removeAll(keepingCapacity: true)
        }
        print(row("codec + assembler (no filter)", unfiltered.seconds, bytes: totalBytes / 4, events: events / 4))

        let eventsPerSecond = Double(events) / full.seconds
        let share = ceiling.seconds / full.seconds * 100
        print(String(format: "end to end: %.2fM events/s = %.1f%% of the ceiling; target >= 10%% and ~1M events/s: %@",
                     eventsPerSecond / 1e6, share, share >= 10 && eventsPerSecond >= 1e6 ? "MET" : "NOT MET"))
        print("memory: resident \(rssBefore / 1_048_576) MiB before, peak \(rssPeak / 1_048_576) MiB during (input held: \(variants.reduce(0) { $0 + $1.count } / 1_048_576) MiB)")
    }

    private struct Counts {
        var events = 0
        var chunks = 0
    }

    private func measure(copies: Int, chunks: [[ByteBuffer]], _ body: (ByteBuffer, inout Counts) -> Void) -> (seconds: Double, events: Int) {
        var counts = Counts()
        let start = ContinuousClock.now
        for index in 0..<copies {
            for chunk in chunks[index % chunks.count] { body(chunk, &counts) }
        }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, counts.events)
    }

    private func row(_ name: String, _ seconds: Double, bytes: Int, events: Int) -> String {
        name.padding(toLength: 36, withPad: " ", startingAt: 0)
            + String(format: "%8.3f s  %8.1f MB/s  %7.2fM events/s", seconds, Double(bytes) / seconds / 1e6, Double(events) / seconds / 1e6)
    }

    /// The ceiling: find every line end and count the blank lines that end messages; build nothing.
    private static func splitOnly(_ chunk: ByteBuffer, _ counts: inout Counts) {
        chunk.withUnsafeReadableBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            var lineStart = 0
            while offset < raw.count, let newline = memchr(base + offset, 0x0A, raw.count - offset) {
                let end = UnsafeRawPointer(newline) - base
                if end - lineStart <= 1 { counts.events += 1 }  // "\n" or "\r\n": a blank line
                offset = end + 1
                lineStart = offset
            }
        }
    }

    static func defaultTranscript() -> String {
        if let root = ProcessInfo.processInfo.environment["CALLTRACKD_FIXTURES"] { return root + "/ami/11-mixed-traffic.ami" }
        let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent("Tests/Fixtures/ami/11-mixed-traffic.ami").path
    }

    /// The events after the login reply; chunks are cut at message ends so copies join cleanly.
    static func afterLogin(_ bytes: [UInt8]) throws -> [UInt8] {
        guard let login = bytes.firstRange(of: Array("Authentication accepted\r\n\r\n".utf8)) else {
            throw ValidationError("no login reply in the transcript")
        }
        return Array(bytes[login.upperBound...])
    }

    /// Gives every Uniqueid and Linkedid (`1795439721.61`) of one copy its own epoch part.
    static func renumbered(_ bytes: [UInt8], variant: Int) -> [UInt8] {
        let from = Array("179543".utf8)
        let to = Array(String(format: "9%05d", variant).utf8)
        var result = bytes
        var index = 0
        while let found = result[index...].firstRange(of: from) {
            result.replaceSubrange(found, with: to)
            index = found.upperBound
        }
        return result
    }

    static func chunked(_ bytes: [UInt8], size: Int) -> [ByteBuffer] {
        stride(from: 0, to: bytes.count, by: size).map { ByteBuffer(bytes: bytes[$0..<min(bytes.count, $0 + size)]) }
    }

    static func residentBytes() -> Int {
        guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = statm.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}
