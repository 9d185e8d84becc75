import Logging
import Synchronization

/// Keeps log messages for assertions and streams them, so a test can wait for a line.
final class RecordingLog: Sendable {
    let messages: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let kept = Mutex<[String]>([])

    init() {
        (messages, continuation) = AsyncStream.makeStream()
    }

    var all: [String] { kept.withLock { $0 } }

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    /// Waits for the first message containing `text` (from now on or already seen).
    func waitFor(_ text: String) async -> Bool {
        if all.contains(where: { $0.contains(text) }) { return true }
        for await message in messages where message.contains(text) { return true }
        return false
    }

    fileprivate func add(_ line: String) {
        kept.withLock { $0.append(line) }
        continuation.yield(line)
    }

    private struct Handler: LogHandler {
        let log: RecordingLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let metadata = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            log.add("\(event.level) \(event.message) \(metadata)")
        }
    }
}
