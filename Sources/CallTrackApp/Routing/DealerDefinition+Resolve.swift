import CallTrackCore
import HTTPAPI

/// One reading of a dealer for the config file (`dealer.<id>.*`) and the admin API (`PUT /v1/admin/dealers/{id}`):
/// both fill a `DealerDefinition`, and this checks it and makes the `Dealer`. A wrong field is a `ConfigProblem`
/// naming it (`dealer.north.targets[0]` in the file, `targets[0]` in the API).
extension DealerDefinition {
    static let dayKeys: [(String, [Weekday])] = [
        ("weekdays", [.monday, .tuesday, .wednesday, .thursday, .friday]), ("weekend", [.saturday, .sunday]),
    ] + Weekday.allCases.map { ($0.rawValue, [$0]) }

    func resolve(country: Country, keyPrefix p: String) throws(ConfigProblem) -> Dealer {
        guard SiteDefinition.isValidID(id) else {
            throw ConfigProblem(key: "\(p)id", "'\(id)' is not a valid dealer id: use letters, digits, '-' and '_' (1–64)")
        }
        guard !targets.isEmpty else {
            throw ConfigProblem(key: "\(p)targets", "missing: list where Asterisk reaches the dealer, e.g. [\"PJSIP/dealer-12\"] or [\"Local/200@dealers\"]")
        }
        for (index, target) in targets.enumerated() { try ConfigLoader.checkDialString(target, key: "\(p)targets[\(index)]") }
        var parsedRegions: [PhoneRegion] = []
        for (index, raw) in (regions ?? []).enumerated() {
            do { parsedRegions.append(try PhoneRegion.parse(raw)) } catch {
                throw ConfigProblem(key: "\(p)regions[\(index)]", error.description)
            }
        }
        var parsedCallers: Set<PhoneNumber> = []
        for (index, raw) in (callers ?? []).enumerated() {
            do { parsedCallers.insert(try PhoneNumber.parse(raw, defaultCountry: country)) } catch {
                throw ConfigProblem(key: "\(p)callers[\(index)]", "'\(raw)' is not a phone number (\(error))")
            }
        }
        for (index, site) in (sites ?? []).enumerated() where !SiteDefinition.isValidID(site) {
            throw ConfigProblem(key: "\(p)sites[\(index)]", "'\(site)' is not a site id")
        }
        func within(_ value: Int?, _ range: ClosedRange<Int>, _ key: String) throws(ConfigProblem) -> Int? {
            guard let value else { return nil }
            guard range.contains(value) else { throw ConfigProblem(key: "\(p)\(key)", "\(value) is not a whole number from \(range.lowerBound) to \(range.upperBound)") }
            return value
        }
        let priority = try within(priority, 1...1000, "priority") ?? 1
        var weightValue = 1
        if case .fixed(let n) = weight { weightValue = try within(n, 1...1000, "weight") ?? 1 }
        var capacity = try within(capacity, 0...100_000, "capacity")
        if capacity == 0 { capacity = nil }
        if let name, name.count > 200 || name.contains(where: { $0.isNewline }) {
            throw ConfigProblem(key: "\(p)name", "a name of one line, up to 200 characters")
        }
        return Dealer(
            id: id, name: name, regions: parsedRegions, sites: Set(sites ?? []), callers: parsedCallers, priority: priority,
            weight: weightValue, capacity: capacity, hours: try businessHours(keyPrefix: p), targets: targets,
            enabled: enabled ?? true, autoWeight: weight == .auto)
    }

    /// `hours.<day>` for mon…sun, `weekdays` (mon–fri) and `weekend` (sat, sun) as shorthands a day's own key
    /// overrides: `"09:00-18:00"`, `"09:00-13:00, 14:00-18:00"` or `closed`. No hours at all: always open.
    func businessHours(keyPrefix p: String) throws(ConfigProblem) -> BusinessHours {
        let zoneName = time_zone ?? "UTC"
        guard let zone = ZoneOffsets.iana(zoneName) else {
            throw ConfigProblem(key: "\(p)time_zone", "'\(zoneName)' is not an IANA time zone: write e.g. Europe/Moscow or America/New_York")
        }
        var parsedHolidays: Set<LocalDate> = []
        for (index, raw) in (holidays ?? []).enumerated() {
            guard let date = LocalDate(raw.trimmingSpaces) else {
                throw ConfigProblem(key: "\(p)holidays[\(index)]", "'\(raw)' is not a date: write YYYY-MM-DD, e.g. 2026-12-31")
            }
            parsedHolidays.insert(date)
        }
        let given = hours ?? [:]
        for key in given.keys where !Self.dayKeys.contains(where: { $0.0 == key }) {
            throw ConfigProblem(key: "\(p)hours.\(key)", "not a day: write mon…sun, weekdays or weekend")
        }
        var weekly: [Weekday: [BusinessHours.Range]] = [:]
        for (key, days) in Self.dayKeys {
            guard let text = given[key] else { continue }
            let ranges = try ConfigLoader.ranges(text, key: "\(p)hours.\(key)")
            for day in days { weekly[day] = ranges }
        }
        guard !given.isEmpty else { return .always(in: zone) }
        return BusinessHours(zone: zone, weekly: weekly, holidays: parsedHolidays)
    }

    /// The definition of a dealer as routing holds it (a dealer from the config file, shown by the admin API).
    init(_ dealer: Dealer) {
        let always = dealer.hours.weekly.allSatisfy { $0 == [BusinessHours.Range(start: 0, end: 1440)] } && dealer.hours.holidays.isEmpty
        var days: [String: String] = [:]
        if !always {
            for day in Weekday.allCases {
                let ranges = dealer.hours.weekly[day.index]
                days[day.rawValue] = ranges.isEmpty ? "closed" : ranges.map(\.description).joined(separator: ", ")
            }
        }
        self.init(
            id: dealer.id, name: dealer.name, regions: dealer.regions.map(\.description), sites: dealer.sites.sorted(),
            callers: dealer.callers.map(\.e164).sorted(), priority: dealer.priority, weight: dealer.autoWeight ? .auto : .fixed(dealer.weight),
            capacity: dealer.capacity, time_zone: dealer.hours.zone.description, hours: always ? nil : days,
            holidays: dealer.hours.holidays.map(\.description).sorted(), targets: dealer.targets, enabled: dealer.enabled)
    }
}
