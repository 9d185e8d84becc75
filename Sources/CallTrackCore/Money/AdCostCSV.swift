/// Reads ad costs from a CSV as ad cabinets and spreadsheets export it: a header naming the columns `date`,
/// `source`, `medium`, `campaign`, `cost` and (optionally) `currency`, in any order and case (`utm_source`, `day`,
/// `spend` are understood too); comma, semicolon or tab between fields; RFC 4180 quotes; dates as `2026-12-07` or
/// `07.12.2026`; amounts as `Money.parse` reads them (`1 234,50`). Rows naming the same day and campaign are summed.
/// A file with any bad row is refused whole, with every problem's line: nothing is half-imported.
public enum AdCostCSV {
    public struct Problems: Error, Hashable, Sendable, CustomStringConvertible {
        public var lines: [String]
        public var description: String { lines.joined(separator: "; ") }
    }

    static let aliases: [String: String] = [
        "date": "date", "day": "date", "source": "source", "utm_source": "source", "medium": "medium", "utm_medium": "medium",
        "campaign": "campaign", "utm_campaign": "campaign", "cost": "cost", "spend": "cost", "costs": "cost", "currency": "currency",
    ]

    /// The costs in `text`; `currency` for a file without a currency column.
    public static func parse(_ text: String, currency fallback: String? = nil) throws(Problems) -> [AdCost] {
        if let fallback {
            do { _ = try Money.currencyCode(fallback) } catch { throw Problems(lines: ["currency=\(fallback.prefix(20)): \(error)"]) }
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = String(first.dropFirst()) }
        guard let headerIndex = lines.firstIndex(where: { !$0.trimmingSpaces.isEmpty }) else {
            throw Problems(lines: ["the file is empty: send a header (date,source,medium,campaign,cost,currency) and one row per day and campaign"])
        }
        let header = lines[headerIndex]
        let separator: Character = header.contains("\t") ? "\t" : header.contains(";") ? ";" : ","
        let names = fields(header, separator).map { aliases[$0.trimmingSpaces.lowercased()] }
        var column: [String: Int] = [:]
        for (index, name) in names.enumerated() { if let name, column[name] == nil { column[name] = index } }
        let missing = ["date", "source", "medium", "campaign", "cost"].filter { column[$0] == nil }
        guard missing.isEmpty else {
            throw Problems(lines: ["line \(headerIndex + 1): the header lacks \(missing.joined(separator: ", ")): name the columns date, source, medium, campaign, cost and currency"])
        }
        if column["currency"] == nil, fallback == nil {
            throw Problems(lines: ["the file has no currency column: add one, or say which currency its costs are in (currency=RUB)"])
        }
        var sums: [CampaignKey: [LocalDate: (AdCost, Int)]] = [:]
        var order: [(CampaignKey, LocalDate)] = []
        var problems: [String] = []
        for (offset, line) in lines.enumerated().dropFirst(headerIndex + 1) where !line.trimmingSpaces.isEmpty {
            let number = offset + 1
            let values = fields(line, separator)
            func value(_ name: String) -> String? {
                column[name].flatMap { $0 < values.count ? String(values[$0].trimmingSpaces) : nil }
            }
            guard let dayText = value("date"), let day = date(dayText) else {
                problems.append("line \(number): '\(value("date") ?? "")' is not a date: write 2026-12-07 or 07.12.2026")
                continue
            }
            let cost: Money
            do { cost = try Money.parse(value("cost") ?? "", currency: value("currency").flatMap { $0.isEmpty ? nil : $0 } ?? fallback ?? "") } catch {
                problems.append("line \(number): \(error)")
                continue
            }
            guard cost.hundredths >= 0 else {
                problems.append("line \(number): a cost is 0 or more")
                continue
            }
            let row = AdCost(day: day, source: value("source") ?? "", medium: value("medium") ?? "", campaign: value("campaign") ?? "", cost: cost)
            if let (earlier, line) = sums[row.key]?[day] {
                guard earlier.cost.currency == cost.currency else {
                    problems.append("line \(number): \(cost.currency) where line \(line) has \(earlier.cost.currency) for the same day and campaign")
                    continue
                }
                var summed = earlier
                summed.cost.hundredths += cost.hundredths
                sums[row.key]?[day] = (summed, line)
            } else {
                sums[row.key, default: [:]][day] = (row, number)
                order.append((row.key, day))
            }
        }
        guard problems.isEmpty else { throw Problems(lines: Array(problems.prefix(20)) + (problems.count > 20 ? ["… \(problems.count - 20) more"] : [])) }
        return order.compactMap { sums[$0.0]?[$0.1]?.0 }
    }

    /// `2026-12-07`, `07.12.2026` or `07/12/2026` (day first, as the cabinets that use it write it).
    static func date(_ text: String) -> LocalDate? {
        if let iso = LocalDate(text) { return iso }
        let parts = text.split(whereSeparator: { $0 == "." || $0 == "/" })
        guard parts.count == 3, parts[0].count <= 2, parts[1].count <= 2, parts[2].count == 4 else { return nil }
        return LocalDate("\(parts[2])-\(parts[1].count == 1 ? "0" : "")\(parts[1])-\(parts[0].count == 1 ? "0" : "")\(parts[0])")
    }

    /// The fields of one line; a quoted field may hold the separator and doubled quotes.
    static func fields(_ line: String, _ separator: Character) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line)[...]
        while let c = iterator.popFirst() {
            if quoted {
                if c == "\"" {
                    if iterator.first == "\"" { current.append("\""); iterator.removeFirst() } else { quoted = false }
                } else {
                    current.append(c)
                }
            } else if c == "\"" && current.trimmingSpaces.isEmpty {
                current = ""
                quoted = true
            } else if c == separator {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }
}
