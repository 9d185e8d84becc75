import CallTrackCore
import FastAGI

/// `dealers:` and `dealer.<id>.*`, each site's `default_route`, and `agi.*`:
/// ```yaml
/// dealers: [moscow-north]
/// dealer:
///   moscow-north:
///     name: "Moscow North"
///     regions: ["+7 495", "+7 499"]      # caller's country and area code; empty: anywhere
///     sites: [acme]                      # empty: every site
///     callers: ["+74951112233"]          # always here first
///     priority: 1                        # 1 first; 2 only when every 1 is closed or full
///     weight: 3                          # share among open dealers of one priority; `auto`: from its answer rate
///     capacity: 4                        # concurrent calls; omit for no limit
///     time_zone: Europe/Moscow
///     hours: { weekdays: "09:00-18:00", sat: "10:00-14:00", sun: closed }
///     holidays: ["2026-12-31"]
///     targets: ["PJSIP/dealer-12", "Local/200@dealers"]
///     enabled: true
/// ```
extension ConfigLoader {
    static func routing(_ keys: Keys, country: Country) throws(ConfigProblem) -> RoutingTable {
        var dealers: [Dealer] = []
        var seen: Set<String> = []
        for id in keys.list("dealers") ?? [] {
            guard SiteDefinition.isValidID(id) else {
                throw ConfigProblem(key: "dealers", "'\(id)' is not a valid dealer id: use letters, digits, '-' and '_' (1–64)")
            }
            guard seen.insert(id).inserted else { throw ConfigProblem(key: "dealers", "'\(id)' is listed twice") }
            dealers.append(try dealer(id, keys, country: country))
        }
        let book: DealerBook
        do { book = try DealerBook(dealers) } catch { throw ConfigProblem(key: "dealers", error.description) }
        var routes: [String: String] = [:]
        for site in keys.list("sites") ?? [] {
            if let route = keys.string("site.\(site).default_route") {
                try checkDialString(route, key: "site.\(site).default_route")
                routes[site] = route
            }
        }
        return RoutingTable(book: book, defaultRoutes: routes)
    }

    private static func dealer(_ id: String, _ keys: Keys, country: Country) throws(ConfigProblem) -> Dealer {
        let p = "dealer.\(id)"
        guard let targets = keys.list("\(p).targets"), !targets.isEmpty else {
            throw ConfigProblem(key: "\(p).targets", "missing: list where Asterisk reaches the dealer, e.g. [\"PJSIP/dealer-12\"] or [\"Local/200@dealers\"]")
        }
        for (index, target) in targets.enumerated() { try checkDialString(target, key: "\(p).targets[\(index)]") }
        var regions: [PhoneRegion] = []
        for (index, raw) in (keys.list("\(p).regions") ?? []).enumerated() {
            do { regions.append(try PhoneRegion.parse(raw)) } catch {
                throw ConfigProblem(key: "\(p).regions[\(index)]", error.description)
            }
        }
        var callers: Set<PhoneNumber> = []
        for (index, raw) in (keys.list("\(p).callers") ?? []).enumerated() {
            do { callers.insert(try PhoneNumber.parse(raw, defaultCountry: country)) } catch {
                throw ConfigProblem(key: "\(p).callers[\(index)]", "'\(raw)' is not a phone number (\(error))")
            }
        }
        let sites = keys.list("\(p).sites") ?? []
        for (index, site) in sites.enumerated() where !SiteDefinition.isValidID(site) {
            throw ConfigProblem(key: "\(p).sites[\(index)]", "'\(site)' is not a site id")
        }
        let autoWeight = keys.string("\(p).weight")?.trimmingSpaces.lowercased() == "auto"
        var capacity = try keys.int("\(p).capacity", in: 0...100_000)
        if capacity == 0 { capacity = nil }
        return Dealer(
            id: id, name: keys.string("\(p).name"), regions: regions, sites: Set(sites), callers: callers,
            priority: try keys.int("\(p).priority", in: 1...1000) ?? 1,
            weight: try autoWeight ? 1 : (keys.int("\(p).weight", in: 1...1000) ?? 1),
            capacity: capacity, hours: try hours(p, keys), targets: targets,
            enabled: try keys.bool("\(p).enabled") ?? true, autoWeight: autoWeight)
    }

    /// `hours.<day>` for mon…sun, `weekdays` (mon–fri) and `weekend` (sat, sun) as shorthands a day's
    /// own key overrides: `"09:00-18:00"`, `"09:00-13:00, 14:00-18:00"` or `closed`. No hours at all: always open.
    private static func hours(_ p: String, _ keys: Keys) throws(ConfigProblem) -> BusinessHours {
        let zoneName = keys.string("\(p).time_zone") ?? "UTC"
        guard let zone = ZoneOffsets.iana(zoneName) else {
            throw ConfigProblem(key: "\(p).time_zone", "'\(zoneName)' is not an IANA time zone: write e.g. Europe/Moscow or America/New_York")
        }
        var holidays: Set<LocalDate> = []
        for (index, raw) in (keys.list("\(p).holidays") ?? []).enumerated() {
            guard let date = LocalDate(raw.trimmingSpaces) else {
                throw ConfigProblem(key: "\(p).holidays[\(index)]", "'\(raw)' is not a date: write YYYY-MM-DD, e.g. 2026-12-31")
            }
            holidays.insert(date)
        }
        let shorthands: [(String, [Weekday])] = [
            ("weekdays", [.monday, .tuesday, .wednesday, .thursday, .friday]), ("weekend", [.saturday, .sunday]),
        ]
        var weekly: [Weekday: [BusinessHours.Range]] = [:]
        var any = false
        for (key, days) in shorthands + Weekday.allCases.map({ ($0.rawValue, [$0]) }) {
            let dotted = "\(p).hours.\(key)"
            guard let text = keys.string(dotted) else { continue }
            any = true
            let ranges = try ranges(text, key: dotted)
            for day in days { weekly[day] = ranges }
        }
        guard any else { return .always(in: zone) }
        return BusinessHours(zone: zone, weekly: weekly, holidays: holidays)
    }

    private static func ranges(_ text: String, key: String) throws(ConfigProblem) -> [BusinessHours.Range] {
        if text.trimmingSpaces.lowercased() == "closed" { return [] }
        var ranges: [BusinessHours.Range] = []
        for part in text.split(separator: ",") {
            guard let range = BusinessHours.Range(String(part).trimmingSpaces) else {
                throw ConfigProblem(key: key, "'\(String(part).trimmingSpaces)' is not opening hours: write e.g. 09:00-18:00 (a range past midnight is two: 22:00-24:00 and 00:00-02:00 the next day), several with commas, or closed")
            }
            ranges.append(range)
        }
        return ranges
    }

    /// A dial string goes into `Dial()` as it is: one technology/resource, no line breaks, no `,` or `&`
    /// (which would add Dial options or more channels).
    static func checkDialString(_ text: String, key: String) throws(ConfigProblem) {
        let parts = text.split(separator: "/", maxSplits: 1)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
              !text.contains(where: { $0 == "," || $0 == "&" || $0 == "\"" || $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 } == true })
        else {
            throw ConfigProblem(key: key, "'\(text)' is not a dial string: write one Asterisk channel as technology/resource, e.g. PJSIP/dealer-12 or Local/200@dealers")
        }
    }

    /// `agi.*`: on when `agi.enabled` is true, or when `agi.host` or `agi.port` is set.
    static func agi(_ keys: Keys) throws(ConfigProblem) -> FastAGIConfiguration? {
        let named = keys.string("agi.host") != nil || keys.string("agi.port") != nil
        guard try keys.bool("agi.enabled") ?? named else {
            keys.skip("agi", advice: "the agi section is read only when FastAGI is on: set agi.enabled: true (or agi.host/agi.port), or remove this key")
            return nil
        }
        var agi = FastAGIConfiguration()
        agi.host = keys.string("agi.host") ?? agi.host
        agi.port = try keys.int("agi.port", in: 0...65535) ?? agi.port
        if let ms = try keys.int("agi.deadline_ms", in: 10...5000) { agi.deadline = .milliseconds(ms) }
        if let ms = try keys.int("agi.head_timeout_ms", in: 100...60_000) { agi.headTimeout = .milliseconds(ms) }
        agi.maxLineBytes = try keys.int("agi.max_line_bytes", in: 256...(1 << 20)) ?? agi.maxLineBytes
        return agi
    }
}
