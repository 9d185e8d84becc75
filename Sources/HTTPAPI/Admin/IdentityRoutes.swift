import CallTrackCore
import Foundation
import Hummingbird

/// `/v1/admin/visitors/{id}` and `/v1/admin/identities`: who a visitor is, and a connector's way to say
/// more (a CRM contact id, another phone of the contact). A link that names two people merges them.
extension AdminRoutes {
    func registerIdentity(on admin: RouterGroup<APIContext>) {
        admin.get("/visitors/{visitor}") { _, context in
            let visitor = try context.parameters.decoded("visitor")
            guard let profile = try await keptLedger().profile(of: visitor) else {
                throw APIError(.notFound, "no visitor '\(visitor.prefix(80))' is known")
            }
            return try jsonResponse(ProfileView(profile))
        }
        admin.post("/identities") { request, _ in
            struct Body: Decodable {
                var kind: String
                var value: String
                var visitor_id: String?
                var call_id: String?
                /// Who links: shown in the merge record (e.g. "amoCRM connector").
                var source: String?
            }
            let body = try await decodeBody(Body.self, from: request, limit: settings.maxBodyBytes)
            let identifier = try identifier(body.kind, body.value)
            let target: LinkTarget
            switch (body.visitor_id, body.call_id) {
            case (let visitor?, nil):
                guard Identifier.isWellFormed(visitor) else {
                    throw APIError(.badRequest, "visitor_id '\(Self.quoted(visitor))' is not a visitor id: write the id of a visitor the daemon has seen, \(Identifier.shape)")
                }
                target = .visitor(visitor)
            case (nil, let call?):
                guard (1...Self.maxCallIDLength).contains(call.utf8.count), !call.unicodeScalars.contains(where: \.isControlOrLineBreak) else {
                    throw APIError(.badRequest, "call_id '\(Self.quoted(call))' is not a call id: write the call_id of a lead (GET /v1/admin/leads), 1 to \(Self.maxCallIDLength) bytes with no control characters")
                }
                target = .call(call)
            default: throw APIError(.badRequest, "name the person by exactly one of visitor_id or call_id")
            }
            if let source = body.source, source.unicodeScalars.contains(where: \.isControlOrLineBreak) {
                throw APIError(.badRequest, "source '\(Self.quoted(source))' has control characters: name who links in plain text, e.g. amoCRM connector")
            }
            let source = String((body.source ?? "a connector").prefix(100))
            guard let profile = try await keptLedger().link(identifier, to: target, by: source, at: desk.clock.now()) else {
                switch target {
                case .visitor(let visitor):
                    throw APIError(.notFound, "visitor_id '\(visitor)' names no visitor this daemon has seen: use a visitor_id from a session or from GET /v1/admin/visitors/{id}")
                case .call(let call):
                    throw APIError(.notFound, "no lead with call_id '\(call)' names a visitor")
                }
            }
            desk.logger.notice("identifier linked through the admin API", metadata: [
                "identifier": "\(identifier)", "visitor": "\(profile.survivor)", "visitors": "\(profile.visitorIDs.count)",
            ])
            return try jsonResponse(ProfileView(profile))
        }
    }

    /// Longer than any call id the daemon stores: Asterisk's `Linkedid` (`1700000000.123`) is at most 150 characters.
    static let maxCallIDLength = 256

    /// A client's text in an error message: at most 80 characters, control characters as `\u{…}`.
    static func quoted(_ text: String) -> String {
        String(text.prefix(80).unicodeScalars.map { $0.isControlOrLineBreak ? $0.escaped(asASCII: true) : String($0) }.joined())
    }

    private func keptLedger() throws -> any IdentityBook & PersonalDataStore {
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
        var visitor_id: String
        var linked_at: String
        var last_seen_at: String
        var call_id: String?
    }
    struct Merge: Encodable {
        var merged: String
        var survivor: String
        var reason: String
        var via: String
        var call_id: String?
        var at: String
    }
    var visitor_id: String
    var visitor_ids: [String]
    var identifiers: [Identifier]
    var merges: [Merge]
    var leads: [String]

    init(_ profile: VisitorProfile) {
        visitor_id = profile.survivor
        visitor_ids = profile.visitorIDs
        identifiers = profile.identifiers.map {
            Identifier(kind: $0.identifier.kind.rawValue, value: $0.identifier.value, visitor_id: $0.visitorID,
                       linked_at: APITime.format($0.linkedAt), last_seen_at: APITime.format($0.lastSeenAt), call_id: $0.callID)
        }
        merges = profile.merges.map {
            Merge(merged: $0.merged, survivor: $0.survivor, reason: $0.reason, via: $0.via, call_id: $0.callID, at: APITime.format($0.at))
        }
        leads = profile.leads
    }
}
