import CallTrackCore
import Foundation
import Logging
import Store

/// `calltrackd export metrica --date D [--won]`: the day's Yandex Metrica offline-conversions CSV of leads or won deals (the file
/// `GET /v1/admin/exports/metrica-conversions` answers), written to a folder for the upload.
public enum ConversionExport {
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes `metrica-conversions-<date>.csv` into `folder`; returns what it says on the terminal.
    public static func metrica(config: AppConfig, date text: String, won: Bool = false, target: String, folder: String) async throws -> [String] {
        guard let date = LocalDate(text) else { throw Refused(description: "--date \(text) is not a day: write it as YYYY-MM-DD, e.g. 2026-12-07") }
        guard FileManager.default.fileExists(atPath: config.databasePath) else {
            throw Refused(description: "no state database at \(config.databasePath): start the daemon first (calltrackd serve), or check data.dir")
        }
        let store = try SQLiteStore(path: config.databasePath, logger: Logger(label: "calltrackd.export"))
        let ledger = LeadLedger(store: store, outbox: Outbox(store: store, topic: Outbox.leadTopic))
        let day = date.utcDay
        let conversions = won ? try await ledger.wonDeals(from: day.from, to: day.to) : try await ledger.conversions(from: day.from, to: day.to)
        let path = URL(fileURLWithPath: folder).appendingPathComponent("metrica-\(won ? "won-deals" : "conversions")-\(date).csv").path
        try MetricaConversions.csv(conversions, target: target).write(toFile: path, atomically: true, encoding: .utf8)
        let withID = conversions.filter { $0.ymUID?.isEmpty == false }.count
        let what = won ? "deal(s)" : "lead(s)"
        return [
            "wrote \(path): \(withID) conversion(s) of goal '\(target)' on \(date) (UTC)"
                + (withID < conversions.count ? "; \(conversions.count - withID) \(what) had no _ym_uid (visit without Metrica, or redacted)" : ""),
        ]
    }
}
