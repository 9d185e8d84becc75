import Foundation
import Testing
import TestSupport

/// The daemon serves the minified build of the snippet; people edit the readable source. A stale build
/// would ship old behaviour while the source (and review) shows the new one, so the suite checks that
/// the served file is exactly what `scripts/build-snippet` makes of the source today.
@Suite("Snippet build")
struct SnippetBuildTests {
    @Test("the served ct.js is the minified build of SnippetSource/ct.js, and stays a few KB")
    func servedFileIsTheBuildOfTheSource() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let check = try await Subprocess.run(root.appendingPathComponent("scripts/build-snippet").path, ["--check"])
        #expect(check.status == 0, "\(String(decoding: check.output, as: UTF8.self))")

        let served = try Data(contentsOf: root.appendingPathComponent("Sources/HTTPAPI/Snippet/ct.js"))
        let source = try Data(contentsOf: root.appendingPathComponent("Sources/HTTPAPI/SnippetSource/ct.js"))
        #expect(served.count < source.count * 2 / 3, "the served file is minified")
        #expect(served.count <= 12 * 1024)
    }
}
