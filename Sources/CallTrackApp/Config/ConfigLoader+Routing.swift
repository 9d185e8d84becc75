import CallTrackCore
import FastAGI
import HTTPAPI

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

    /// Reads `dealer.<id>.*` into a definition, checked by the same code as the admin API's (`DealerDefinition.resolve`).
    private static func dealer(_ id: String, _ keys: Keys, country: Country) throws(ConfigProblem) -> Dealer {
        let p = "dealer.\(id)"
        var weight: DealerDefinition.Weight? = .auto
        if keys.string("\(p).weight")?.trimmingSpaces.lowercased() != "auto" {
            weight = try keys.int("\(p).weight", in: 1...1000).map(DealerDefinition.Weight.fixed)
        }
        var hours: [String: String] = [:]
        for (key, _) in DealerDefinition.dayKeys {
            if let text = keys.string("\(p).hours.\(key)") { hours[key] = text }
        }
        let definition = DealerDefinition(
            id: id, name: keys.string("\(p).name"), regions: keys.list("\(p).regions"), sites: keys.list("\(p).sites"),
            callers: keys.list("\(p).callers"), priority: try keys.int("\(p).priority", in: 1...1000), weight: weight,
            capacity: try keys.int("\(p).capacity", in: 0...100_000), time_zone: keys.string("\(p).time_zone"),
            hours: hours.isEmpty ? nil : hours, holidays: keys.list("\(p).holidays"), targets: keys.list("\(p).targets") ?? [],
            enabled: try keys.bool("\(p).enabled"))
        return try definition.resolve(country: country, keyPrefix: p + ".")
    }

    static func ranges(_ text: String, key: String) throws(ConfigProblem) -> [BusinessHours.Range] {
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
