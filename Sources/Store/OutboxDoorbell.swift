import Synchronization

/// Wakes outbox delivery when a commit added outbox rows — whoever committed them: `Outbox.enqueue`,
/// `LeadLedger` (a lead with its outbox row), or the group committer (a visit whose identifiers merged two
/// visitors). One per state database, shared by its outboxes.
final class OutboxDoorbell: Sendable {
    private let state = Mutex(State())

    /// The newest id committed by this process, and the delivery loops parked until a newer one exists.
    private struct State {
        var newestID: Int64 = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    /// Entries up to `id` are committed.
    func ring(newest id: Int64) {
        let wake = state.withLock { bell -> [CheckedContinuation<Void, Never>] in
            bell.newestID = max(bell.newestID, id)
            defer { bell.waiters = [:] }
            return Array(bell.waiters.values)
        }
        for waiter in wake { waiter.resume() }
    }

    /// Returns once an entry with an id above `id` was committed, or the task is cancelled.
    func wait(after id: Int64) async {
        let key = state.withLock { bell -> Int in
            defer { bell.nextWaiter += 1 }
            return bell.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let ready = state.withLock { bell -> Bool in
                    if bell.newestID > id || Task.isCancelled { return true }
                    bell.waiters[key] = continuation
                    return false
                }
                if ready { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: key) }
            waiter?.resume()
        }
    }
}
