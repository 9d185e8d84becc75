import CallTrackCore
import Foundation
import Hummingbird

/// `DELETE /v1/admin/people/{visitor}` (admin scope): forgets one person — the visitor and every device and cookie
/// merged with it, or with `phone:+7…` a phone's calls and its person — in the state database at once and in
/// PostgreSQL through the outbox (`LeadLedger.erase`). Answers what was erased (counts only) and the erasure record;
/// 404 when nothing is known of them.
extension AdminRoutes {
    func registerPeople(on admin: RouterGroup<APIContext>) {
        admin.delete("/people/{visitor}") { _, context in
            guard let ledger else { throw APIError(.notFound, "visitors are not kept by this daemon") }
            let named: String = try context.parameters.decoded("visitor")
            let target = try erasureTarget(named)
            let by = context.tokenName ?? "admin token"
            // Their live leases end first: a touch or an expiry of one would write their ids again after the erasure.
            desk.book.release(visitors: try await ledger.visitors(of: target), at: desk.clock.now())
            let record: ErasureRecord
            switch try await ledger.erase(target, by: by, at: desk.clock.now()) {
            case .erased(let erased):
                record = erased
            case .unknown:
                throw APIError(.notFound, "nothing is known of '\(Self.quoted(named))': nothing erased; name a visitor id the daemon has seen (GET /v1/admin/visitors/{id}) or phone:+7…")
            case .callInProgress(let since):
                throw APIError(.conflict, "a call from this person, begun at \(APITime.format(since)), has not ended: nothing erased; ask again once it has (its next change would write the caller again)")
            }
            // The record's id and counts only: the log keeps no identifier of the person forgotten.
            desk.logger.notice("person forgotten through the admin API", metadata: [
                "erasure": "\(record.id)", "token": "\(by)", "visitors": "\(record.visitors)", "leads": "\(record.leads)",
            ])
            return try jsonResponse(ErasureView(record))
        }
    }

    private func erasureTarget(_ named: String) throws -> ErasureTarget {
        if named.hasPrefix("phone:") {
            do { return .phone(try PhoneNumber.parse(String(named.dropFirst(6)), defaultCountry: country)) } catch {
                throw APIError(.badRequest, "'\(Self.quoted(named))' names no phone number (\(error)): write phone:+74951234567")
            }
        }
        guard Identifier.isWellFormed(named) else {
            throw APIError(.badRequest, "'\(Self.quoted(named))' is not a visitor id: write the id of a visitor the daemon has seen, \(Identifier.shape), or phone:+7…")
        }
        return .visitor(named)
    }
}

/// An erasure as `DELETE /v1/admin/people/{visitor}` answers it: when, of which visitor id, by which token, how much.
struct ErasureView: Encodable {
    var erasure_id: Int64
    var erased_at: String
    var visitor_id: String?
    var by: String
    var visitors: Int
    var sessions: Int
    var calls: Int
    var leads: Int
    var identifiers: Int
    var merges: Int

    init(_ record: ErasureRecord) {
        erasure_id = record.id
        erased_at = APITime.format(record.at)
        visitor_id = record.visitorID
        by = record.by
        visitors = record.visitors
        sessions = record.sessions
        calls = record.calls
        leads = record.leads
        identifiers = record.identifiers
        merges = record.merges
    }
}
