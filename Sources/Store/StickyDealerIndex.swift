import CallTrackCore
import GRDB
import Synchronization

/// The store's `StickyDealers`: every caller's sticky dealer in memory, kept equal to what
/// `LeadLedger.stickyDealer(caller:before:)` reads (see `StickyDealers` for what an answer promises).
///
/// A write that may change some caller's answer (a lead with a dealer, a phone bound, a merge, an erasure, a
/// redaction) names, inside its transaction, the numbers and visitor ids it touched (`touch`). Once that
/// transaction commits, on the writer and so before the next write begins, the answers of those numbers, and of
/// every number bound to the persons of those visitors, are read again and replace the ones held. A rolled-back
/// transaction changed nothing and reads nothing. Off until `load`: then writes read nothing for it.
public final class StickyDealerIndex: Sendable {
    private let state = Mutex(StickyDealers())
    /// What the writer's current transaction touched. One writer connection per store, one transaction at a time:
    /// the first touch registers the commit hook, which takes them all.
    private let touched = Mutex(Touched())

    private struct Touched {
        var phones: [String] = []
        var visitors: [VisitorID] = []
        var registered = false
    }

    public init() {}

    /// The answer held for `caller` at `t`, without I/O.
    public func answer(for caller: PhoneNumber, before t: Timestamp) -> StickyDealers.Answer {
        state.withLock { $0.answer(for: caller, before: t) }
    }

    /// Numbers with a dealer held.
    public var count: Int { state.withLock(\.count) }

    public var isReady: Bool { state.withLock(\.isReady) }

    /// Reads every answer from `database` (one query per table, on its reader pool) and keeps them up to date from
    /// then on. The writes committed while it reads are applied over it.
    func load(from database: DatabasePool) async throws {
        state.withLock { $0.startLoading() }
        do {
            let snapshot = try await database.read { db in
                var builder = StickyDealers.Builder()
                let leads = try GRDB.Row.fetchCursor(db, sql: """
                    SELECT caller, visitor_id, dealer_id, started_at FROM lead WHERE dealer_id IS NOT NULL
                    """)
                while let row = try leads.next() {
                    builder.lead(caller: row[0], visitor: row[1], dealer: row[2], at: Timestamp(microsecondsSinceEpoch: row[3]))
                }
                let phones = try GRDB.Row.fetchCursor(db, sql: "SELECT value, visitor_id FROM visitor_identifier WHERE kind = 'phone'")
                while let row = try phones.next() { builder.phone(row[0], boundTo: row[1]) }
                let merges = try GRDB.Row.fetchCursor(db, sql: "SELECT merged_id, survivor_id FROM visitor_merge")
                while let row = try merges.next() { builder.merge(row[0], into: row[1]) }
                return builder
            }
            state.withLock { $0.loaded(snapshot) }
        } catch {
            state.withLock { $0.lost() }
            throw error
        }
    }

    /// Inside a write transaction: the answers of `phones` (E.164), and of every number bound to the person of
    /// each of `visitors`, are read again once it commits.
    func touch(phones: [String], visitors: [VisitorID], _ db: Database) {
        let phones = phones.filter { !$0.isEmpty }
        let visitors = visitors.filter { !$0.isEmpty }
        guard !phones.isEmpty || !visitors.isEmpty else { return }
        let first = touched.withLock { touched in
            touched.phones += phones
            touched.visitors += visitors
            defer { touched.registered = true }
            return !touched.registered
        }
        guard first else { return }
        db.afterNextTransaction(
            onCommit: { [self] db in
                let all = touched.withLock { touched in
                    defer { touched = Touched() }
                    return touched
                }
                refresh(phones: all.phones, visitors: all.visitors, db)
            },
            onRollback: { [self] _ in touched.withLock { $0 = Touched() } })
    }

    /// On the writer, right after the commit: reads the answers again.
    private func refresh(phones: [String], visitors: [VisitorID], _ db: Database) {
        guard state.withLock(\.isOn) else { return }
        do {
            var numbers = Set(phones)
            for visitor in Set(visitors) {
                for id in try LeadLedger.person(of: visitor, db).ids { numbers.formUnion(try VisitorIdentity.phones(of: id, db)) }
            }
            let answers = try numbers.map { ($0, try LeadLedger.latestDealer(caller: $0, before: .max, db)) }
            state.withLock { sticky in
                for (phone, latest) in answers { sticky.refreshed(phone, latest) }
            }
        } catch {
            // Memory no longer knows what the store holds: every caller reads the store until the next load.
            state.withLock { $0.lost() }
        }
    }
}
