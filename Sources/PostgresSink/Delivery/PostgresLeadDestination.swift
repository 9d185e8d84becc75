import CallTrackCore
import Destinations
import Logging

/// PostgreSQL as a lead destination: each batch of changes is one upsert of the leads (the newest revision of
/// each call wins, a NOTIFY per lead) and the visitor merges, in one session. A value PostgreSQL refuses is
/// found by splitting the batch in halves until the bad rows are alone; they are rejected with PostgreSQL's
/// error and the rest of the batch is delivered. The schema is migrated before the first batch.
public struct PostgresLeadDestination: LeadDestination {
    public let name: String
    private let connection: PostgresConnection
    private let writer: LeadWriter
    private let mergeWriter: MergeWriter
    private let logger: Logger

    /// The name the daemon's PostgreSQL destination has (its cursor in the state database); the outbox of an
    /// older daemon is converted for it.
    public static let defaultName = "postgres"

    public init(name: String = defaultName, connection: PostgresConnection, schema: PostgresSchema, logger: Logger) {
        self.name = name
        self.connection = connection
        self.writer = LeadWriter(schema: schema)
        self.mergeWriter = MergeWriter(schema: schema)
        self.logger = logger
    }

    public var maxBatchSize: Int { LeadWriter.maxRowsPerStatement }

    /// A batch as it goes to PostgreSQL: the leads already turned into column arrays (built ahead, while the
    /// previous batch is written), and the changes, to split the batch when a value is refused.
    public struct Batch: Sendable {
        let changes: [LeadChange]
        let rows: LeadRows
    }

    public func encode(_ changes: [LeadChange]) -> Batch {
        Batch(changes: changes, rows: LeadRows(changes.compactMap(\.lead)))
    }

    public func prepare() async throws(DeliveryFailure) {
        let schema = writer.schema
        do throws(PostgresError) {
            let applied = try await connection.withSession { session throws(PostgresError) in try schema.migrate(session) }
            if !applied.isEmpty {
                logger.info("postgres schema migrated", metadata: ["postgres.schema": "\(schema.name)", "postgres.versions": "\(applied)"])
            }
        } catch {
            throw Self.failure(error)
        }
    }

    public func deliver(_ batch: Batch) async -> DeliveryResult {
        switch await upsert(batch.changes[...], prepared: batch.rows) {
        case .success(let rejected): rejected.isEmpty ? .delivered : .rejected(rejected)
        case .failure(let error): .retryLater(Self.failure(error))
        }
    }

    /// Upserts `changes`; on a refused value, splits them in halves until the bad rows are alone. A failure that
    /// is not about the values fails the whole batch (it is sent again: the upsert is idempotent).
    private func upsert(
        _ changes: ArraySlice<LeadChange>, prepared: LeadRows? = nil
    ) async -> Result<[(id: Int64, error: String)], PostgresError> {
        guard !changes.isEmpty else { return .success([]) }
        let rows = prepared ?? LeadRows(changes.compactMap(\.lead))
        let merges = changes.compactMap(\.merge)
        let erasures = changes.compactMap(\.erasure)
        let (writer, mergeWriter) = (self.writer, self.mergeWriter)
        var retriedAtOnce = false
        while true {
            do throws(PostgresError) {
                try await connection.withSession { session throws(PostgresError) in
                    try writer.upsert(rows, in: session)
                    try mergeWriter.write(merges, in: session)  // a lead keeps its visitor id: the order between them does not matter
                    // After the merges: a merge of the person delivered in this batch is forgotten too.
                    try mergeWriter.forget(erasures, in: session)
                }
                return .success([])
            } catch where error.kind == .badData {
                if changes.count == 1 { return .success([(changes.first!.entry.id, error.description)]) }
                let middle = changes.startIndex + changes.count / 2
                let left = await upsert(changes[..<middle])
                guard case .success(let leftRejected) = left else { return left }
                let right = await upsert(changes[middle...])
                guard case .success(let rightRejected) = right else { return right }
                return .success(leftRejected + rightRejected)
            } catch where error.kind == .connectionLost && !retriedAtOnce {
                retriedAtOnce = true // a connection that died while idle: the upsert is idempotent, try a new one now
            } catch {
                return .failure(error)
            }
        }
    }

    private static func failure(_ error: PostgresError) -> DeliveryFailure {
        DeliveryFailure(kind: "\(error.kind)", error.description)
    }
}
