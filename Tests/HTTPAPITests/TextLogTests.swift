import CallTrackApp
import CallTrackCore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing
import TestSupport

@Suite("The text log escapes what clients send")
struct TextLogTests {
    /// The lines a `TextLogHandler` wrote.
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    @Test("an unauthenticated error report cannot forge a log line or send a terminal escape (C0, C1, line separators)")
    func snippetErrorsCannotForgeLines() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let written = Lines()
        var logger = Logger(label: "calltrackd") { label in TextLogHandler(label: label, write: { written.append($0) }) }
        logger.logLevel = .debug
        let forged = #"boom\n2026-01-01T00:00:00+0000 critical calltrackd: [HTTPAPI] admin token leaked\r\u001b[2J\u009b31m\u2028x\\n"#
        try await TestDaemon.with(TestDaemon.config(dir: dir), logger: logger) { _, client in
            let status = try await client.status(
                uri: "/v1/errors", method: .post,
                body: ByteBuffer(string: #"{"site":"acme","message":"\#(forged)","url":"https://acme.example/ x=1 level=critical"}"#))
            #expect(status == .noContent)
        }
        let lines = written.all
        let report = try #require(lines.first { $0.contains("snippet error") })
        // One event, one line: the only line break is the one that ends it, and no control character reaches the terminal.
        #expect(report.last == "\n")
        #expect(report.dropLast().unicodeScalars.filter(\.isControlOrLineBreak).isEmpty)
        #expect(!lines.contains { $0.hasPrefix("2026-01-01T00:00:00+0000 critical") })
        #expect(report.contains(#"boom\n2026-01-01T00:00:00+0000 critical calltrackd: [HTTPAPI] admin token leaked\r\u{1B}[2J\u{9B}31m\u{2028}x\\n"#))
        // A value with spaces is quoted, so it cannot pose as more fields.
        #expect(report.contains(#"url="https://acme.example/ x=1 level=critical""#))
    }
}

@Suite("The JSON log escapes what a terminal would act on")
struct JSONLogEscapingTests {
    @Test("DEL, C1 controls and line separators are written as \\u escapes; the JSON reads back the same")
    func invisibleControls() throws {
        let message = "a\u{7F}b\u{9B}31m\u{85}c\u{2028}d\u{2029}e Иван"
        let raw = try JSONSerialization.data(withJSONObject: ["msg": message], options: [.sortedKeys])
        let escaped = JSONLogHandler.escapingInvisibleControls(raw)
        let text = String(decoding: escaped, as: UTF8.self)
        #expect(!text.unicodeScalars.contains { $0.isControlOrLineBreak }, "\(text)")
        #expect(text.contains(#"\u009b"#) && text.contains(#"\u2028"#) && text.contains(#"\u007f"#))
        let back = try JSONSerialization.jsonObject(with: escaped) as? [String: String]
        #expect(back?["msg"] == message, "the same text after decoding, Cyrillic untouched")
    }
}
