import CallTrackCore
import Foundation
import Hummingbird

/// Ad spend and what it brought, as the app keeps and computes them: costs imported from the ad cabinets'
/// exports, and the ROI report over the leads and their CRM outcomes.
public protocol MoneySource: Sendable {
    /// Stores the costs of `csv` (`AdCostCSV`), each replacing its day and campaign; `currency` for a file without a
    /// currency column. Throws `AdCostCSV.Problems` for a file it refuses (nothing stored then).
    func importCosts(csv: String, currency: String?) async throws -> CostImport
    func roi(from: LocalDate, through: LocalDate, model: AttributionModel, by: ROIReport.Grouping, currency: String?) async throws -> ROIReport
}

/// What an import stored.
public struct CostImport: Encodable, Sendable {
    public var rows: Int
    public var changed: Int
    public var from: String?
    public var through: String?
    public var campaigns: Int
    /// The sum per currency, as decimal text.
    public var total: [String: String]

    public init(_ costs: [AdCost], changed: Int) {
        rows = costs.count
        self.changed = changed
        from = costs.map(\.day).min()?.description
        through = costs.map(\.day).max()?.description
        campaigns = Set(costs.map(\.key)).count
        var sums: [String: Int64] = [:]
        for cost in costs { sums[cost.cost.currency, default: 0] += cost.cost.hundredths }
        total = sums.mapValues { Money(hundredths: $0, currency: "XXX").decimal }
    }
}

/// `POST /v1/admin/costs` (a CSV body; `?currency=` for a file without a currency column) and
/// `GET /v1/admin/reports/roi?from=&to=&model=&by=`: cost, calls, leads, won deals, revenue, cost per lead and ROMI
/// per campaign or per dealer.
struct MoneyRoutes {
    let source: any MoneySource
    let maxBodyBytes: Int

    func register(on admin: RouterGroup<APIContext>) {
        admin.post("/costs") { request, _ in
            let buffer: ByteBuffer
            do { buffer = try await request.body.collect(upTo: maxBodyBytes) } catch {
                throw APIError(.contentTooLarge, "the CSV is larger than \(maxBodyBytes) bytes: send it in parts (by month)")
            }
            guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
                throw APIError(.badRequest, "the CSV is not UTF-8: save it as UTF-8 (Excel: CSV UTF-8)")
            }
            let currency = request.uri.queryParameters["currency"].map(String.init)
            do {
                return try jsonResponse(try await source.importCosts(csv: text, currency: currency))
            } catch let problems as AdCostCSV.Problems {
                throw APIError(.badRequest, "nothing imported: \(problems.description)")
            } catch let error as APIError {
                throw error
            } catch {
                throw APIError(.serviceUnavailable, "the costs were not stored (\(error)); nothing changed, try again")
            }
        }
        admin.get("/reports/roi") { request, _ in
            let parameters = request.uri.queryParameters
            func day(_ name: String) throws -> LocalDate {
                guard let text = parameters.get(name), let day = LocalDate(text) else {
                    throw APIError(.badRequest, "\(name) must be a day, YYYY-MM-DD (UTC), e.g. \(name)=2026-12-01")
                }
                return day
            }
            let from = try day("from"), through = try day("to")
            guard from <= through, through.daysSinceEpoch - from.daysSinceEpoch < 800 else {
                throw APIError(.badRequest, "from must not be after to, and the span at most 800 days")
            }
            let modelText = parameters.get("model") ?? AttributionModel.linear.rawValue
            guard let model = AttributionModel(rawValue: modelText) else {
                throw APIError(.badRequest, "model '\(AdminRoutes.quoted(modelText))' is not a model: write one of \(AttributionModel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let byText = parameters.get("by") ?? ROIReport.Grouping.campaign.rawValue
            guard let grouping = ROIReport.Grouping(rawValue: byText) else {
                throw APIError(.badRequest, "by '\(AdminRoutes.quoted(byText))' is not a grouping: write by=campaign or by=dealer")
            }
            let report: ROIReport
            do { report = try await source.roi(from: from, through: through, model: model, by: grouping, currency: parameters.get("currency")) } catch {
                throw APIError(.serviceUnavailable, "the report cannot be read now (\(error)); try again")
            }
            return try jsonResponse(ROIAnswer(report))
        }
    }
}

/// The JSON of `GET /v1/admin/reports/roi` and `calltrackd report roi --json`: amounts as decimal text in `currency`.
public struct ROIAnswer: Encodable, Sendable {
    public struct Row: Encodable, Sendable {
        var name: String
        var calls: Double
        var leads: Double
        var won: Double
        var revenue: String
        var cost: String
        var cost_per_lead: String?
        var romi: Double?

        init(_ row: ROIReport.Row) {
            name = row.name
            calls = Self.rounded(row.calls)
            leads = Self.rounded(row.leads)
            won = Self.rounded(row.won)
            revenue = ROIAnswer.decimal(row.revenue)
            cost = ROIAnswer.decimal(row.cost)
            cost_per_lead = row.costPerLead.map(ROIAnswer.decimal)
            romi = row.romi.map { Self.rounded($0) }
        }

        /// Credits to 4 decimals: what a person compares.
        static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
    }

    var from: String
    var to: String
    var model: String
    var by: String
    var currency: String?
    var rows: [Row]
    var total: Row
    var other_currency_deals: Int
    var other_currency_costs: Int

    public init(_ report: ROIReport) {
        from = report.from.description
        to = report.through.description
        model = report.model.rawValue
        by = report.grouping.rawValue
        currency = report.currency
        rows = report.rows.map(Row.init)
        total = Row(report.total)
        other_currency_deals = report.otherCurrencyDeals
        other_currency_costs = report.otherCurrencyCosts
    }

    /// Hundredths (fractional after sharing) as decimal text with two decimals.
    public static func decimal(_ hundredths: Double) -> String {
        Money(hundredths: Int64(hundredths.rounded()), currency: "XXX").decimal
    }
}
