import Foundation
import Testing

/// The daemon serves the minified build of the snippet; people edit the readable source. A stale build
/// would ship old behaviour while the source (and review) shows the new one, so the suite checks that
/// the served file is exactly what `scripts/build-snippet` makes of the source today.
@Suite("Snippet build")
struct SnippetBuildTests {
    @Test("the served ct.js is the minified build of SnippetSource/ct.js, and stays a few KB")
    func servedFileIsTheBuildOfTheSource() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let process = Process()
        process.executableURL = root.appendingPathComponent("scripts/build-snippet")
        process.arguments = ["--check"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")

        let served = try Data(contentsOf: root.appendingPathComponent("Sources/HTTPAPI/Snippet/ct.js"))
        let source = try Data(contentsOf: root.appendingPathComponent("Sources/HTTPAPI/SnippetSource/ct.js"))
        #expect(served.count < source.count * 2 / 3, "the served file is minified")
        #expect(served.count <= 12 * 1024)
    }
}
