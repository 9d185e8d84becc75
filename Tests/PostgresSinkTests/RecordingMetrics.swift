import CoreMetrics
import Synchronization

/// A metrics backend for one test (`withMetricsFactory`): keeps the last value of each metric and
/// lets a test wait for a value.
final class RecordingMetrics: MetricsFactory, Sendable {
    private struct State {
        var values: [String: Int64] = [:]
        var waiters: [(label: String, value: Int64, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func value(_ label: String) -> Int64? { state.withLock { $0.values[label] } }

    /// Returns once `label` was last set (gauge) or counted (counter total) to `value`.
    func waitFor(_ label: String, _ value: Int64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.values[label] == value { return true }
                state.waiters.append((label, value, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    fileprivate func set(_ label: String, _ update: (Int64?) -> Int64) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let value = update(state.values[label])
            state.values[label] = value
            let ready = state.waiters.filter { $0.label == label && $0.value == value }.map(\.continuation)
            state.waiters.removeAll { $0.label == label && $0.value == value }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(label: label, metrics: self) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handler(label: label, metrics: self) }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(label: label, metrics: self) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let label: String
        let metrics: RecordingMetrics
        init(label: String, metrics: RecordingMetrics) {
            self.label = label
            self.metrics = metrics
        }
        func increment(by amount: Int64) { metrics.set(label) { ($0 ?? 0) + amount } }
        func reset() { metrics.set(label) { _ in 0 } }
        func record(_ value: Int64) { metrics.set(label) { _ in value } }
        func record(_ value: Double) { metrics.set(label) { _ in Int64(value) } }
        func recordNanoseconds(_ duration: Int64) { metrics.set(label) { _ in duration } }
    }
}
