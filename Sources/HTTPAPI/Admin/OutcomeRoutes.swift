import CallTrackCore
import Foundation
import Hummingbird

/// `POST /v1/admin/leads/{call_id}/outcome`: a CRM connector says what became of a lead — qualified, won (with the
/// amount) or lost. One outcome per stage: the same report sent again changes nothing (`changed: false`), a
/// different one replaces it; either way the lead's new revision reaches every destination.
struct OutcomeRoutes {
    let leads: (any LeadSource)?
    let clock: any WallClock
    let maxBodyBytes: Int

    /// The body: `{"stage": "won", "amount": "125000.00", "currency": "RUB", "crm_deal_id": "D-17", "at": "…Z"}`.
    struct Report: Decodable {
        var stage: String
        /// A JSON number or a string; hundredths at most.
        var amount: Amount?
        var currency: String?
        var crm_deal_id: String?
        /// When the CRM moved the deal (ISO 8601); the time of the request when absent.
        var at: String?

        /// An amount as a CRM sends it: `125000.5` or `"125000.50"`.
        struct Amount: Decodable {
            var text: String
            init(from decoder: any Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let text = try? c.decode(String.self) { self.text = text } else { text = "\(try c.decode(Decimal.self))" }
            }
        }
    }

    func register(on admin: RouterGroup<APIContext>) {
        admin.post("/leads/{call_id}/outcome") { request, context in
            guard let leads else { throw APIError(.notFound, "leads are not kept by this daemon") }
            let callID = try context.parameters.decoded("call_id")
            let report = try await decodeBody(Report.self, from: request, limit: maxBodyBytes)
            let outcome = try Self.outcome(report, now: clock.now())
            let recorded: (lead: any Encodable & Sendable, changed: Bool)?
            do { recorded = try await Self.record(leads, outcome, for: callID, at: clock.now()) } catch {
                throw APIError(.serviceUnavailable, "the outcome was not stored (\(error)); nothing changed, try again")
            }
            guard let recorded else {
                throw APIError(.notFound, "no lead has call_id '\(AdminRoutes.quoted(callID))': use a call_id from GET /v1/admin/leads or the lead table")
            }
            return try jsonResponse(OutcomeAnswer(changed: recorded.changed, lead: recorded.lead))
        }
    }

    private struct OutcomeAnswer: Encodable {
        var changed: Bool
        var lead: any Encodable & Sendable

        func encode(to encoder: any Encoder) throws {
            enum Keys: String, CodingKey { case changed, lead }
            var c = encoder.container(keyedBy: Keys.self)
            try c.encode(changed, forKey: .changed)
            try c.encode(lead, forKey: .lead)
        }
    }

    private static func record<Source: LeadSource>(
        _ source: Source, _ outcome: DealOutcome, for callID: String, at now: Timestamp
    ) async throws -> (lead: any Encodable & Sendable, changed: Bool)? {
        guard let result = try await source.record(outcome, for: callID, at: now) else { return nil }
        return (result.lead, result.changed)
    }

    /// The report checked, as the lead keeps it; a 400 that says what to write otherwise.
    static func outcome(_ report: Report, now: Timestamp) throws -> DealOutcome {
        var at = now
        if let text = report.at {
            guard let parsed = APITime.parse(text) else {
                throw APIError(.badRequest, "at '\(AdminRoutes.quoted(text))' is not a time: write ISO 8601 with an offset, e.g. 2026-12-07T15:04:05Z")
            }
            at = parsed
        }
        do {
            return try DealOutcome.reported(stage: report.stage, amount: report.amount?.text, currency: report.currency,
                                            crmDealID: report.crm_deal_id, at: at, by: "api")
        } catch {
            throw APIError(.badRequest, error.description)
        }
    }
}
