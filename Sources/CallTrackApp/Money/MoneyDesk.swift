import CallTrackCore
import Foundation
import HTTPAPI
import Logging
import Store

/// Ad costs and the ROI report over the stored leads: serves `POST /v1/admin/costs`, `GET /v1/admin/reports/roi`,
/// `calltrackd costs import` and `calltrackd report roi`.
public struct MoneyDesk: MoneySource {
    let leads: any LeadStore
    let costs: any AdSpend
    let clock: any WallClock
    let logger: Logger

    public init(leads: any LeadStore, costs: any AdSpend, clock: any WallClock, logger: Logger) {
        self.leads = leads
        self.costs = costs
        self.clock = clock
        self.logger = logger
    }

    public func importCosts(csv: String, currency: String?) async throws -> CostImport {
        let parsed = try AdCostCSV.parse(csv, currency: currency)
        let changed = try await costs.put(parsed, at: clock.now())
        let answer = CostImport(parsed, changed: changed)
        logger.notice("ad costs imported", metadata: [
            "rows": "\(answer.rows)", "changed": "\(changed)", "from": "\(answer.from ?? "-")", "through": "\(answer.through ?? "-")",
        ])
        return answer
    }

    public func roi(from: LocalDate, through: LocalDate, model: AttributionModel, by grouping: ROIReport.Grouping, currency: String?) async throws -> ROIReport {
        let leads = try await leads.leads(from: from.utcMidnight, to: through.utcDay.to)
        let spend = try await costs.costs(from: from, through: through)
        return ROIReport(leads: leads, costs: spend, from: from, through: through, model: model, by: grouping, currency: currency)
    }
}

/// `calltrackd report roi` and `calltrackd costs import` on the state database, beside a running daemon or not.
public enum MoneyCommands {
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    static func desk(_ config: AppConfig) throws -> MoneyDesk {
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            throw Refused(description: "no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir")
        }
        let logger = Logger(label: "calltrackd.money")
        let store = try SQLiteStore(path: config.databasePath, logger: logger)
        return MoneyDesk(leads: LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic)),
                         costs: AdCostStore(store: store), clock: SystemClock(), logger: logger)
    }

    /// Imports a CSV file; returns what it says on the terminal.
    public static func importCosts(config: AppConfig, file: String, currency: String?) async throws -> [String] {
        guard let data = FileManager.default.contents(atPath: file) else { throw Refused(description: "cannot read \(file)") }
        guard let text = String(data: data, encoding: .utf8) else { throw Refused(description: "\(file) is not UTF-8: save it as UTF-8 (Excel: CSV UTF-8)") }
        let imported: CostImport
        do { imported = try await desk(config).importCosts(csv: text, currency: currency) } catch let problems as AdCostCSV.Problems {
            throw Refused(description: "nothing imported: " + problems.lines.joined(separator: "\n  "))
        }
        let totals = imported.total.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        return ["imported \(imported.rows) row(s) (\(imported.changed) changed) of \(imported.campaigns) campaign(s), "
                + "\(imported.from ?? "-") to \(imported.through ?? "-"): \(totals.isEmpty ? "0" : totals)"]
    }

    public static func roi(config: AppConfig, from: String, to: String, model: String, by: String, currency: String?, json: Bool) async throws -> [String] {
        guard let first = LocalDate(from), let last = LocalDate(to), first <= last else {
            throw Refused(description: "--from and --to are days, YYYY-MM-DD (UTC), from not after to")
        }
        guard let model = AttributionModel(rawValue: model) else {
            throw Refused(description: "--model \(model): write one of \(AttributionModel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let grouping = ROIReport.Grouping(rawValue: by) else { throw Refused(description: "--by \(by): write campaign or dealer") }
        let report = try await desk(config).roi(from: first, through: last, model: model, by: grouping, currency: currency)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return [String(decoding: try encoder.encode(ROIAnswer(report)), as: UTF8.self)]
        }
        return table(report)
    }

    /// A terminal table, one campaign or dealer a row, the total last.
    public static func table(_ report: ROIReport) -> [String] {
        let currency = report.currency ?? ""
        var lines = ["\(report.from) to \(report.through) (UTC), \(report.model.rawValue) attribution, by \(report.grouping.rawValue)"
                     + (currency.isEmpty ? "" : ", amounts in \(currency)")]
        guard !report.rows.isEmpty else { return lines + ["no calls and no costs in these days"] }
        let header = [report.grouping.rawValue, "cost", "calls", "leads", "won", "revenue", "cost/lead", "ROMI"]
        func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value) }
        let rows = (report.rows + [report.total]).map { r -> [String] in
            [r.name, ROIAnswer.decimal(r.cost), number(r.calls), number(r.leads), number(r.won), ROIAnswer.decimal(r.revenue),
             r.costPerLead.map(ROIAnswer.decimal) ?? "-", r.romi.map { String(format: "%.0f%%", $0 * 100) } ?? "-"]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        lines += ([header] + rows).map { row in
            row.indices.map { column in
                let pad = String(repeating: " ", count: widths[column] - row[column].count)
                return column == 0 ? row[column] + pad : pad + row[column]
            }.joined(separator: "  ")
        }
        if report.otherCurrencyDeals + report.otherCurrencyCosts > 0 {
            lines.append("left out: \(report.otherCurrencyDeals) won deal(s) and \(report.otherCurrencyCosts) cost row(s) in another currency (--currency picks one)")
        }
        return lines
    }
}
