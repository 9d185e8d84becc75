import Logging
import Synchronization

/// A log handler that keeps what it is given, for tests (the process-wide bootstrap is never touched).
public final class CapturedLogs: Sendable {
    public struct Entry: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    private let entries = Mutex<[Entry]>([])

    public init() {}

    public var all: [Entry] { entries.withLock { $0 } }

    public var logger: Logger {
        Logger(label: "test") { _ in Handler(logs: self) }
    }

    fileprivate func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            logs.append(Entry(level: event.level, message: "\(event.message)",
                              metadata: (event.metadata ?? [:]).mapValues { "\($0)" }))
        }
    }
}
