import Synchronization

/// A wait in a test that did not end in time: the test fails with what it waited for, instead of
/// holding the whole suite (and CI) until something kills it.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration

    public init(what: String, limit: Duration) {
        self.what = what
        self.limit = limit
    }

    public var description: String { "gave up after \(limit) waiting for \(what)" }
}

/// Runs `body` and returns its result, or throws `TimedOut` naming `what` once `limit` has passed.
///
/// ```
/// let payload = try await within(.seconds(30), waitingFor: "the NOTIFY of the lead") {
///     for await n in listener.notifications { return n.payload }
///     return nil
/// }
/// ```
/// At the deadline the body is cancelled and left behind: a body that ignores cancellation (a
/// continuation nobody resumes) cannot hold the test past its limit.
public func within<T: Sendable>(
    _ limit: Duration, waitingFor what: String, _ body: sending @escaping () async throws -> T
) async throws -> T {
    let outcome = FirstOutcome<T>()
    let work = Task {
        do { outcome.settle(with: .success(try await body())) } catch { outcome.settle(with: .failure(error)) }
    }
    let timer = Task {
        try? await Task.sleep(for: limit)
        outcome.settle(with: .failure(TimedOut(what: what, limit: limit)))
    }
    defer {
        work.cancel()
        timer.cancel()
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in outcome.wait(continuation) }
    } onCancel: {
        outcome.settle(with: .failure(CancellationError()))
    }
}

/// The first of the body's result and the deadline, handed to the one waiter.
private final class FirstOutcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<T, any Error>?
    }
    private let state = Mutex(State())

    func settle(with result: Result<T, any Error>) {
        let waiter = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(with: result)
    }

    func wait(_ continuation: CheckedContinuation<T, any Error>) {
        let settled = state.withLock { state -> Result<T, any Error>? in
            if state.result == nil { state.waiter = continuation }
            return state.result
        }
        if let settled { continuation.resume(with: settled) }
    }
}

/// The first element of `stream` that satisfies `predicate`; throws `TimedOut` naming `what` if none
/// came within `limit`, and `StreamEnded` if the stream finished without one.
public func firstElement<Element: Sendable>(
    _ stream: AsyncStream<Element>, within limit: Duration = .seconds(60), waitingFor what: String,
    where predicate: @escaping @Sendable (Element) -> Bool = { _ in true }
) async throws -> Element {
    try await within(limit, waitingFor: what) {
        for await element in stream where predicate(element) { return element }
        throw StreamEnded(what: what)
    }
}

/// The first `count` elements of `stream` that satisfy `predicate`, in order, within `limit`.
public func collect<Element: Sendable>(
    _ count: Int, from stream: AsyncStream<Element>, within limit: Duration = .seconds(60), waitingFor what: String,
    where predicate: @escaping @Sendable (Element) -> Bool = { _ in true }
) async throws -> [Element] {
    try await within(limit, waitingFor: "\(count) × \(what)") {
        var found: [Element] = []
        guard count > 0 else { return found }
        for await element in stream where predicate(element) {
            found.append(element)
            if found.count == count { return found }
        }
        throw StreamEnded(what: "\(count) × \(what) (got \(found.count))")
    }
}

/// The stream a test waited on finished before what it waited for came.
public struct StreamEnded: Error, CustomStringConvertible {
    public let what: String
    public init(what: String) { self.what = what }
    public var description: String { "the stream ended before \(what)" }
}
