import Synchronization

/// A value shared by concurrent test tasks (a class around a `Mutex`, so closures can capture it).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    public init(_ value: Value) { mutex = Mutex(value) }
    public func withLock<T: Sendable>(_ body: (inout sending Value) -> sending T) -> T { mutex.withLock(body) }
    public var value: Value { mutex.withLock { $0 } }
}
