import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process for tests, started with `posix_spawn`. Every test that runs a program goes through this
/// one type, for two reasons the suite has paid for:
/// - Foundation's `Process.run()` crashed (signal 11 inside its spawn) when several test threads started
///   programs at once;
/// - waiting for a child must never block one of the two cooperative threads: a few tests doing so at once
///   stalled every other test's timers until they gave up together.
/// So `waitpid` runs on a thread of its own per child, the output is drained by another, and every wait a
/// test does is `async`.
public final class Subprocess: Sendable {
    public enum Output: Sendable {
        /// Collected in memory (standard output and error together); see `output` and `onOutput`.
        case capture
        /// Appended to a file (standard output and error together).
        case file(String)
        case discard
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let pid: pid_t
    public let executable: String
    private let input: Int32?
    private let state: Mutex<State>

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's Glibc module does
    /// not declare. A child must not inherit the test process's descriptors: NIO's sockets are not
    /// close-on-exec, and a child holding a fake Asterisk's accepted connection kept it open after the fake
    /// closed it, so the client under test never saw the cut.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    private struct State {
        var status: Int32?
        var outputFinished: Bool
        var output = Data()
        var inputClosed = false
        var waiters: [CheckedContinuation<Int32, Never>] = []

        var finished: Int32? { outputFinished ? status : nil }
    }

    /// Starts `executable` (a path) with `arguments`. `environment` replaces the test process's environment when
    /// given; `directory` is where it starts; `stdin` opens a pipe for `write(_:)`, otherwise it reads /dev/null.
    /// `onOutput`, with `.capture`, sees all the output so far each time more arrives.
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        stdin: Bool = false, output: Output = .capture, onOutput: (@Sendable (String) -> Void)? = nil
    ) throws {
        var captured = false
        if case .capture = output { captured = true }
        // In `directory` through the shell: posix_spawn_file_actions_addchdir_np is not in Swift's Glibc either.
        let command = directory.map { ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", $0, executable] + arguments }
            ?? [executable] + arguments
        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }

        guard let addCloseFrom = Self.addCloseFrom else {
            throw Failure(description: "posix_spawn_file_actions_addclosefrom_np is missing: the tests need glibc 2.34 or later")
        }
        let (pid, input, reader) = try { () throws -> (pid_t, Int32?, Int32?) in
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            let inputPipe = stdin ? try Self.makePipe() : nil
            let outputPipe = captured ? try Self.makePipe() : nil
            if let inputPipe {
                posix_spawn_file_actions_adddup2(&actions, inputPipe[0], 0)
            } else {
                posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            }
            switch output {
            case .capture: posix_spawn_file_actions_adddup2(&actions, outputPipe![1], 1)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
            case .discard: posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            }
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
            _ = addCloseFrom(&actions, 3)
            var pid: pid_t = 0
            let spawned = envp.map { posix_spawn(&pid, argv[0]!, &actions, nil, argv, $0) }
                ?? posix_spawn(&pid, argv[0]!, &actions, nil, argv, environ)
            if let inputPipe { close(inputPipe[0]) }
            if let outputPipe { close(outputPipe[1]) }
            guard spawned == 0 else {
                if let inputPipe { close(inputPipe[1]) }
                if let outputPipe { close(outputPipe[0]) }
                throw Failure(description: "cannot start \(executable): \(String(cString: strerror(spawned)))")
            }
            return (pid, inputPipe?[1], outputPipe?[0])
        }()
        self.pid = pid
        self.executable = executable
        self.input = input
        self.state = Mutex(State(outputFinished: !captured))

        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            let code = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            finish { $0.status = code }
        }
        if let reader {
            Thread.detachNewThread { [self] in
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = read(reader, &buffer, buffer.count)
                    if count < 0 && errno == EINTR { continue }
                    guard count > 0 else { break }
                    let text = state.withLock { state -> String? in
                        state.output.append(contentsOf: buffer[0..<count])
                        return onOutput == nil ? nil : String(decoding: state.output, as: UTF8.self)
                    }
                    if let text { onOutput?(text) }
                }
                close(reader)
                finish { $0.outputFinished = true }
            }
        }
    }

    /// A pipe whose ends are close-on-exec (dup2 into 0, 1 and 2 clears it in the child), so a child another
    /// way of spawning starts does not hold one open either.
    private static func makePipe() throws -> [Int32] {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw Failure(description: "pipe: \(String(cString: strerror(errno)))") }
        ends.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
        return ends
    }

    private func finish(_ change: (inout State) -> Void) {
        let (waiters, code) = state.withLock { state -> ([CheckedContinuation<Int32, Never>], Int32?) in
            change(&state)
            guard let code = state.finished else { return ([], nil) }
            defer { state.waiters = [] }
            return (state.waiters, code)
        }
        if let code { waiters.forEach { $0.resume(returning: code) } }
    }

    /// Runs a program to its end and returns its exit code and output (standard output and error together).
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
        input: Data? = nil
    ) async throws -> (status: Int32, output: Data) {
        let child = try Subprocess(executable, arguments, environment: environment, directory: directory, stdin: input != nil)
        if let input {
            child.write(input)
            child.closeInput()
        }
        let status = await child.exitCode()
        return (status, child.outputData)
    }

    /// The exit code (128 + the signal when a signal ended it), once the process has exited and its captured
    /// output is all read.
    public func exitCode() async -> Int32 {
        await withCheckedContinuation { continuation in
            let code = state.withLock { state -> Int32? in
                if let code = state.finished { return code }
                state.waiters.append(continuation)
                return nil
            }
            if let code { continuation.resume(returning: code) }
        }
    }

    public var isRunning: Bool { state.withLock { $0.status == nil } }
    public var outputData: Data { state.withLock { $0.output } }
    public var output: String { String(decoding: outputData, as: UTF8.self) }

    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Writes to the child's standard input (opened with `stdin: true`); a child that stopped reading ends it.
    public func write(_ data: Data) {
        guard let input else { return }
        data.withUnsafeBytes { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(input, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    public func closeInput() {
        guard let input, state.withLock({ state in defer { state.inputClosed = true }; return !state.inputClosed }) else { return }
        close(input)
    }

    deinit {
        closeInput()
    }
}
