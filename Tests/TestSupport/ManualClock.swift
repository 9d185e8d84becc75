import CallTrackCore
import Synchronization

/// A `WallClock` that moves only when a test moves it: no sleeps, no flaky timing.
///
/// ```swift
/// let clock = ManualClock(at: .seconds(1_700_000_000))
/// clock.advance(by: .seconds(20 * 60))   // the idle TTL has passed
///
/// // The code under test sleeps on the clock; fire its timer once it is set:
/// try await clock.advance(by: .seconds(15), firing: "the ping timer")
/// ```
/// A task in `sleep(for:)` stays asleep until the test moves the clock to its deadline or past it,
/// or the task is cancelled. Moving the clock before the code under test has gone to sleep would
/// start its timer from the new time, so a test first waits for the sleeper (`advance(by:firing:)`,
/// `waitForSleeper(until:waitingFor:)`), which needs no real waiting and no guessing.
///
/// A class behind a `Mutex` so that the code under test and the test can share one clock
/// across tasks; time never goes backwards unless the test sets it explicitly.
public final class ManualClock: WallClock {
    /// A task suspended until the clock reaches `deadline`: a sleeper, or a test waiting for one.
    private struct Waiter {
        let id: UInt64
        let deadline: Timestamp
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Timestamp
        var nextID: UInt64 = 0
        var sleepers: [Waiter] = []
        /// Tests waiting until someone sleeps until their `deadline`.
        var watchers: [Waiter] = []

        mutating func takeID() -> UInt64 {
            nextID += 1
            return nextID
        }

        /// Takes out the sleepers whose deadline has come, earliest first.
        mutating func due() -> [Waiter] {
            let due = sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            sleepers.removeAll { $0.deadline <= now }
            return due
        }
    }

    private let state: Mutex<State>

    public init(at start: Timestamp = Timestamp(microsecondsSinceEpoch: 1_700_000_000_000_000)) {
        state = Mutex(State(now: start))
    }

    public func now() -> Timestamp { state.withLock { $0.now } }

    /// Returns once the test has moved the clock `duration` past the time of the call; throws
    /// `CancellationError` if the task is cancelled first. A zero or negative duration returns at once.
    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { $0.takeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let (outcome, watchers) = state.withLock { state -> (Result<Void, any Error>?, [Waiter]) in
                    // Checked under the lock: a cancellation after this finds the sleeper in the list.
                    if Task.isCancelled { return (.failure(CancellationError()), []) }
                    let deadline = state.now + duration
                    guard deadline > state.now else { return (.success(()), []) }
                    state.sleepers.append(Waiter(id: id, deadline: deadline, continuation: continuation))
                    let watching = state.watchers.filter { $0.deadline == deadline }
                    state.watchers.removeAll { $0.deadline == deadline }
                    return (nil, watching)
                }
                for watcher in watchers { watcher.continuation.resume() }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let sleeper = state.withLock { state -> Waiter? in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The deadlines of the tasks asleep on this clock, earliest first.
    public var sleepingUntil: [Timestamp] { state.withLock { $0.sleepers.map(\.deadline).sorted() } }

    /// Returns once some task sleeps until exactly `deadline` (at once if one does already); throws
    /// `CancellationError` if the waiting task is cancelled first.
    public func sleeper(until deadline: Timestamp) async throws {
        let id = state.withLock { $0.takeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { state -> Result<Void, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if state.sleepers.contains(where: { $0.deadline == deadline }) { return .success(()) }
                    state.watchers.append(Waiter(id: id, deadline: deadline, continuation: continuation))
                    return nil
                }
                if let outcome { continuation.resume(with: outcome) }
            }
        } onCancel: {
            let watcher = state.withLock { state -> Waiter? in
                guard let index = state.watchers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.watchers.remove(at: index)
            }
            watcher?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Returns once some task sleeps until exactly `deadline`; otherwise throws `TimedOut` after `limit`,
    /// naming `what` and the deadlines the clock's sleepers do have.
    public func waitForSleeper(until deadline: Timestamp, within limit: Duration = .seconds(30), waitingFor what: String) async throws {
        do {
            try await within(limit, waitingFor: what) { try await self.sleeper(until: deadline) }
        } catch is TimedOut {
            let now = now()
            let asleep = sleepingUntil.map { "now + \($0 - now)" }
            throw TimedOut(
                what: "\(what): a sleep until now + \(deadline - now); asleep until \(asleep.isEmpty ? "nothing" : asleep.joined(separator: ", "))",
                limit: limit)
        }
    }

    /// Fires a timer of `duration` set at the current time: waits until some task sleeps until
    /// `now() + duration` (or throws `TimedOut` naming `what`), then moves the clock there.
    @discardableResult
    public func advance(by duration: Duration, firing what: String, within limit: Duration = .seconds(30)) async throws -> Timestamp {
        try await waitForSleeper(until: now() + duration, within: limit, waitingFor: what)
        return advance(by: duration)
    }

    /// Moves the clock forward (a negative duration is refused: use `set(_:)` to go back on purpose)
    /// and wakes the sleepers whose deadline it reached.
    @discardableResult
    public func advance(by duration: Duration) -> Timestamp {
        precondition(duration >= .zero, "ManualClock.advance(by:) takes a non-negative duration")
        let (now, due) = state.withLock { state in
            state.now = state.now + duration
            return (state.now, state.due())
        }
        for sleeper in due { sleeper.continuation.resume() }
        return now
    }

    /// Sets the clock to any time, earlier ones included (a wall clock can be stepped back by NTP);
    /// wakes the sleepers whose deadline it reached.
    public func set(_ time: Timestamp) {
        let due = state.withLock { state in
            state.now = time
            return state.due()
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}

extension Timestamp {
    /// A timestamp `seconds` after the epoch, for readable test data.
    public static func seconds(_ seconds: Int64) -> Timestamp {
        Timestamp(microsecondsSinceEpoch: seconds * 1_000_000)
    }
}
