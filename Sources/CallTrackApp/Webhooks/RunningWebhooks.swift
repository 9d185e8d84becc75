import CallTrackCore
import HTTPAPI
import Synchronization

/// The webhook deliveries a running daemon has started, by endpoint id: what `POST /v1/admin/webhooks/{id}/replay`
/// reaches. Filled as `services()` builds them.
public final class RunningWebhooks: WebhookReplays {
    public let endpoints: [String]
    private let clock: any WallClock
    /// How long an answer waits for the endpoint's loop to take the replay (it may be retrying a batch for minutes).
    private let answerWithin: Duration
    private let replays = Mutex<[String: @Sendable (Timestamp) async throws -> Int?]>([:])

    init(endpoints: [String], clock: any WallClock, answerWithin: Duration = .seconds(3)) {
        self.endpoints = endpoints
        self.clock = clock
        self.answerWithin = answerWithin
    }

    func add(_ endpoint: String, replay: @escaping @Sendable (Timestamp) async throws -> Int?) {
        replays.withLock { $0[endpoint] = replay }
    }

    public func replay(endpoint: String, since: Timestamp) async throws -> WebhookReplayStatus {
        guard let replay = replays.withLock({ $0[endpoint] }) else { return .notRunning }
        // The replay goes on after the answer when the loop is busy: only the wait for it is bounded. (A task's value
        // cannot be awaited with a timeout in a task group: awaiting it ignores cancellation.)
        let clock = self.clock, limit = answerWithin
        let first = await withCheckedContinuation { (answer: CheckedContinuation<Result<Int?, any Error>?, Never>) in
            let once = FirstAnswer(answer)
            let timer = Task { try? await clock.sleep(for: limit); once.give(nil) }
            Task {
                do { once.give(.success(try await replay(since))) } catch { once.give(.failure(error)) }
                timer.cancel()
            }
        }
        switch first {
        case nil: return .queued
        case .success(let waiting)?: return waiting.map { .started(waiting: $0) } ?? .notRunning
        case .failure(let error)?: throw error
        }
    }
}

/// Resumes a continuation with the first of the answers given, once.
private final class FirstAnswer: Sendable {
    private let continuation: Mutex<CheckedContinuation<Result<Int?, any Error>?, Never>?>

    init(_ continuation: CheckedContinuation<Result<Int?, any Error>?, Never>) { self.continuation = Mutex(continuation) }

    func give(_ answer: Result<Int?, any Error>?) {
        let waiting = continuation.withLock { pending in
            defer { pending = nil }
            return pending
        }
        waiting?.resume(returning: answer)
    }
}
