import CallTrackCore
import Hummingbird

/// Files for the web analytics' offline-conversion uploads, made from the leads of one day (UTC):
/// `GET /v1/admin/exports/metrica-conversions?date=2026-12-07[&target=call]` answers Yandex Metrica's CSV
/// (`MetricaConversions`), ready to upload under Goals → Offline conversions: the calls that were leads, or with
/// `kind=won` the deals the CRM reported won that day, with their amounts (`target` then defaults to `won`).
struct ExportRoutes {
    let leads: (any LeadSource)?

    func register(on admin: RouterGroup<APIContext>) {
        admin.get("/exports/metrica-conversions") { request, _ in
            guard let leads else { throw APIError(.notFound, "leads are not kept by this daemon") }
            let (from, to) = try Self.day(request)
            let kind = request.uri.queryParameters["kind"].map(String.init) ?? "calls"
            guard kind == "calls" || kind == "won" else {
                throw APIError(.badRequest, "kind '\(AdminRoutes.quoted(kind))' is not an export: write kind=calls (leads) or kind=won (deals won, with amounts)")
            }
            let target = request.uri.queryParameters["target"].map(String.init) ?? (kind == "won" ? "won" : "call")
            guard !target.isEmpty, target.count <= 100 else {
                throw APIError(.badRequest, "target must name the Metrica goal the conversions count toward, e.g. target=call")
            }
            let conversions = kind == "won" ? try await leads.wonDeals(from: from, to: to) : try await leads.conversions(from: from, to: to)
            let csv = MetricaConversions.csv(conversions, target: target)
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"metrica-\(kind == "won" ? "won-deals" : "conversions")-\(from.utc.year)-\(Timestamp.pad(from.utc.month, 2))-\(Timestamp.pad(from.utc.day, 2)).csv\"",
            ], body: ResponseBody(byteBuffer: ByteBuffer(string: csv)))
        }
    }

    /// `date=YYYY-MM-DD`: that day in UTC.
    static func day(_ request: Request) throws -> (Timestamp, Timestamp) {
        guard let text = request.uri.queryParameters["date"], let date = LocalDate(String(text)) else {
            throw APIError(.badRequest, "date must be the day to export, as YYYY-MM-DD (UTC), e.g. date=2026-12-07")
        }
        return date.utcDay
    }
}
