import CoreMetrics
import Synchronization

/// A metrics backend for one test (`withMetricsFactory`): keeps the last value of each metric (a counter's
/// total) and lets a test wait for a value. Metrics with dimensions are read as `value(label, dimensions)`.
public final class RecordingMetrics: MetricsFactory, Sendable {
    private struct State {
        var values: [String: Double] = [:]
        var waiters: [(key: String, value: Double, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    public init() {}

    public func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        state.withLock { $0.values[Self.key(label, dimensions)] }
    }

    /// Returns once the metric was last set (gauge) or counted (counter total) to `value`.
    public func waitFor(_ label: String, _ dimensions: [(String, String)] = [], _ value: Double) async {
        let key = Self.key(label, dimensions)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.values[key] == value { return true }
                state.waiters.append((key, value, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    fileprivate func set(_ key: String, _ update: (Double?) -> Double) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            let value = update(state.values[key])
            state.values[key] = value
            let ready = state.waiters.filter { $0.key == key && $0.value == value }.map(\.continuation)
            state.waiters.removeAll { $0.key == key && $0.value == value }
            return ready
        }
        for continuation in ready { continuation.resume() }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(key: Self.key(label, dimensions), metrics: self) }
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handler(key: Self.key(label, dimensions), metrics: self) }
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(key: Self.key(label, dimensions), metrics: self) }
    public func destroyCounter(_ handler: any CounterHandler) {}
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    public func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let key: String
        let metrics: RecordingMetrics
        init(key: String, metrics: RecordingMetrics) {
            self.key = key
            self.metrics = metrics
        }
        func increment(by amount: Int64) { metrics.set(key) { ($0 ?? 0) + Double(amount) } }
        func reset() { metrics.set(key) { _ in 0 } }
        func record(_ value: Int64) { metrics.set(key) { _ in Double(value) } }
        func record(_ value: Double) { metrics.set(key) { _ in value } }
        func recordNanoseconds(_ duration: Int64) { metrics.set(key) { _ in Double(duration) } }
    }
}
