import CallTrackCore
import Foundation
import Hummingbird
import Store

/// `/v1/admin/visitors/{id}` and `/v1/admin/identities`: who a visitor is, and a connector's way to say
/// more (a CRM contact id, another phone of the contact). A link that names two people merges them.
extension AdminRoutes {
    func registerIdentity(on admin: RouterGroup<APIContext>) {
        admin.get("/visitors/{visitor}") { _, context in
            let visitor = try context.parameters.require("visitor")
            guard let profile = try await keptLedger().profile(of: visitor) else {
                throw APIError(.notFound, "no visitor '\(visitor)' is known")
            }
            return try jsonResponse(ProfileView(profile), encoder: .admin)
        }
        admin.post("/identities") { request, _ in
            struct Body: Decodable {
                var kind: String
                var value: String
                var visitorId: String?
                var callId: String?
                /// Who links: shown in the merge record (e.g. "amoCRM connector").
                var source: String?
            }
            let body = try await decodeBody(Body.self, from: request, limit: settings.maxBodyBytes, decoder: .admin)
            let identifier = try identifier(body.kind, body.value)
            let target: LeadLedger.LinkTarget
            switch (body.visitorId, body.callId) {
            case (let visitor?, nil): target = .visitor(visitor)
            case (nil, let call?): target = .call(call)
            default: throw APIError(.badRequest, "name the person by exactly one of visitor_id or call_id")
            }
            let source = String((body.source ?? "a connector").prefix(100))
            guard let profile = try await keptLedger().link(identifier, to: target, by: source, at: desk.clock.now()) else {
                throw APIError(.notFound, "no lead with call_id '\(body.callId ?? "")' names a visitor")
            }
            desk.logger.notice("identifier linked through the admin API", metadata: [
                "identifier": "\(identifier)", "visitor": "\(profile.survivor)", "visitors": "\(profile.visitorIDs.count)",
            ])
            return try jsonResponse(ProfileView(profile), encoder: .admin)
        }
    }

    private func keptLedger() throws -> LeadLedger {
        guard let ledger else { throw APIError(.notFound, "visitors are not kept by this daemon") }
        return ledger
    }

    /// A phone in any local spelling becomes E.164; other kinds are taken as sent.
    private func identifier(_ kind: String, _ value: String) throws -> VisitorIdentifier {
        guard let kind = VisitorIdentifier.Kind(rawValue: kind) else {
            throw APIError(.badRequest, "'\(kind)' is not an identifier kind: write one of \(VisitorIdentifier.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if kind == .phone {
            do { return VisitorIdentifier(phone: try PhoneNumber.parse(value, defaultCountry: country)) } catch {
                throw APIError(.badRequest, "'\(value.prefix(40))' is not a phone number (\(error))")
            }
        }
        guard let identifier = VisitorIdentifier(kind, value) else {
            throw APIError(.badRequest, "the \(kind.rawValue) value must be 1 to \(VisitorIdentifier.maxLength) bytes with no control characters")
        }
        return identifier
    }
}

/// A person as `GET /v1/admin/visitors/{id}` shows them.
struct ProfileView: Encodable {
    struct Identifier: Encodable {
        var kind: String
        var value: String
        var visitorId: String
        var linkedAt: String
        var lastSeenAt: String
        var callId: String?
    }
    struct Merge: Encodable {
        var merged: String
        var survivor: String
        var reason: String
        var via: String
        var callId: String?
        var at: String
    }
    var visitorId: String
    var visitorIds: [String]
    var identifiers: [Identifier]
    var merges: [Merge]
    var leads: [String]

    init(_ profile: VisitorProfile) {
        visitorId = profile.survivor
        visitorIds = profile.visitorIDs
        identifiers = profile.identifiers.map {
            Identifier(kind: $0.identifier.kind.rawValue, value: $0.identifier.value, visitorId: $0.visitorID,
                       linkedAt: ISO8601.format($0.linkedAt), lastSeenAt: ISO8601.format($0.lastSeenAt), callId: $0.callID)
        }
        merges = profile.merges.map {
            Merge(merged: $0.merged, survivor: $0.survivor, reason: $0.reason, via: $0.via, callId: $0.callID, at: ISO8601.format($0.at))
        }
        leads = profile.leads
    }
}
