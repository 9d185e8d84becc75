import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The tests' way of running programs: a child sees only its standard descriptors, its output and exit code
/// come back whole, and waiting for it leaves the cooperative pool free.
@Suite("Running programs from tests")
struct SubprocessTests {
    @Test("a child inherits none of the test process's descriptors, close-on-exec or not")
    func childInheritsNoDescriptors() async throws {
        // A descriptor like NIO's sockets: open, and not close-on-exec.
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socket >= 0)
        defer { close(socket) }
        let listed = try await runProgram(["sh", "-c", "ls /proc/$$/fd"])
        #expect(listed.status == 0)
        #expect(listed.output.split(separator: "\n") == ["0", "1", "2"], "the child had \(listed.output)")
    }

    @Test("input goes in, output and the exit code come back, a signal's death reads as 128 + the signal")
    func inputOutputAndExitCodes() async throws {
        let echoed = try await runProgram(["sh", "-c", "cat; echo done >&2; exit 3"], input: "hello\n")
        #expect(echoed.status == 3)
        #expect(echoed.output == "hello\ndone\n")
        let killed = try Subprocess("/bin/sh", ["-c", "kill -9 $$"])
        #expect(await killed.exitCode() == 128 + SIGKILL)
        #expect(!killed.isRunning)
    }

    @Test("a program that is not there is a clear error")
    func missingProgram() {
        #expect(throws: Subprocess.Failure.self) { try Subprocess("/nonexistent/program", []) }
    }
}
