import Foundation
import Testing
import TestSupport

/// The inputs `scripts/fuzz` keeps (seeds, and every finding once fixed) are replayed through the same harness on
/// every run of the suite, so a parser change that brings a crash back fails here without a fuzzer.
@Suite("Saved fuzzing inputs")
struct FuzzReplayTests {
    static let binary = DaemonProcess.executable.deletingLastPathComponent().appendingPathComponent("calltrackd-fuzz").path
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    @Test("every saved input of each parser runs through its harness without a finding", arguments: ["ami", "agi"])
    func replay(target: String) async throws {
        let folder = Self.inputs.appendingPathComponent(target).path
        let saved = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(!saved.isEmpty, "Tests/Fuzz/\(target) holds the seeds")
        let run = try await Subprocess.run(Self.binary, [target, folder])
        let output = String(decoding: run.output, as: UTF8.self)
        #expect(run.status == 0, "\(output)")
        #expect(output.contains("\(target): \(saved.count) inputs replayed, no finding"), "\(output)")
    }

    @Test("a missing input is an error, not a silent pass; an unknown parser is refused")
    func missingInputIsAnError() async throws {
        let missing = try await Subprocess.run(Self.binary, ["ami", "/nonexistent/fuzz-input"])
        #expect(missing.status == 2)
        #expect(String(decoding: missing.output, as: UTF8.self).contains("no such file or folder: /nonexistent/fuzz-input"))
        let unknown = try await Subprocess.run(Self.binary, ["sip", Self.inputs.path])
        #expect(unknown.status == 2)
        #expect(String(decoding: unknown.output, as: UTF8.self).contains("usage: calltrackd-fuzz <ami|agi>"))
    }
}
