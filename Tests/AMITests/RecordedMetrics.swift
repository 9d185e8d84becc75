import CoreMetrics
import Synchronization

/// A metrics backend that keeps the latest values, bound per test with `withMetricsFactory`.
final class RecordedMetrics: MetricsFactory, Sendable {
    private let values = Mutex<[String: Double]>([:])

    /// `label` or `label{key=value}`.
    func value(_ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        values.withLock { $0[Self.key(label, dimensions)] }
    }

    fileprivate func add(_ key: String, _ amount: Double) { values.withLock { $0[key, default: 0] += amount } }
    fileprivate func set(_ key: String, _ value: Double) { values.withLock { $0[key] = value } }

    private static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        dimensions.isEmpty ? label : label + "{" + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Handler(metrics: self, key: Self.key(label, dimensions))
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let metrics: RecordedMetrics
        let key: String
        init(metrics: RecordedMetrics, key: String) {
            self.metrics = metrics
            self.key = key
        }
        func increment(by amount: Int64) { metrics.add(key, Double(amount)) }
        func reset() { metrics.set(key, 0) }
        func record(_ value: Int64) { metrics.set(key, Double(value)) }
        func record(_ value: Double) { metrics.set(key, value) }
        func recordNanoseconds(_ duration: Int64) { metrics.set(key, Double(duration)) }
    }
}
