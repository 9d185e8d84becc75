import Logging
import Synchronization

/// A log handler that keeps what it is given, for tests (the process-wide bootstrap is never touched),
/// and streams it, so a test can wait for a line instead of sleeping.
public final class CapturedLogs: Sendable {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]

        /// `level message key=value ...`, keys sorted: what a test searches when it does not care where a word is.
        public var line: String {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            return "\(level) \(message) \(pairs)"
        }
    }

    private let entries = Mutex<[Entry]>([])
    private let stream: AsyncStream<Entry>
    private let continuation: AsyncStream<Entry>.Continuation
    private let level: Logger.Level

    /// Keeps entries at `level` and above.
    public init(level: Logger.Level = .trace) {
        self.level = level
        (stream, continuation) = AsyncStream.makeStream()
    }

    public var all: [Entry] { entries.withLock { $0 } }

    public var lines: [String] { all.map(\.line) }

    public var logger: Logger {
        Logger(label: "test") { [level] _ in Handler(logs: self, logLevel: level) }
    }

    /// Waits for the first entry whose line contains `text`, already kept or still to come; false if
    /// none came within `limit`. Only one task at a time may wait: the stream has one consumer.
    public func waitFor(_ text: String, within limit: Duration = .seconds(30)) async -> Bool {
        if lines.contains(where: { $0.contains(text) }) { return true }
        return (try? await firstElement(stream, within: limit, waitingFor: "a log line with '\(text)'") { $0.line.contains(text) }) != nil
    }

    fileprivate func append(_ entry: Entry) {
        entries.withLock { $0.append(entry) }
        continuation.yield(entry)
    }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            // The logger's own metadata (e.g. the destination a delivery's logger names) with the event's.
            logs.append(Entry(level: event.level, message: "\(event.message)",
                              metadata: metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }))
        }
    }
}
