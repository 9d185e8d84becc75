/// Keys a user set that no part of calltrackd reads: a typo there would otherwise be ignored in silence,
/// and for a key such as `http.trusted_proxies` the protection one thinks one has would be off. Each is
/// reported with the closest key calltrackd does read.
struct UnknownKeys {
    /// A section the loader read no further (`ami.*` without `ami.host`): its keys are not typos, but unused.
    struct SkippedSection {
        var prefix: String
        var advice: String
    }

    /// Every dotted key the loader looked up.
    var consulted: Set<String>
    var skipped: [SkippedSection]

    /// Sections keyed by an id that another key must list: `site.<id>.…` is read only for ids in `sites`.
    static let listedSections: [(section: String, listedIn: String)] = [
        ("site", "sites"), ("token", "tokens"), ("dealer", "dealers"), ("pool", "a site's pools (site.<id>.pools)"), ("static", "a site's static_numbers (site.<id>.static_numbers)"),
        ("webhook", "a site's webhooks (site.<id>.webhooks)"), ("ga4", "a site's GA4 properties (site.<id>.ga4)"),
    ]

    /// Variables of the project's own tools, not config keys: the CLI's config path and the test suite's settings.
    static let otherVariables: Set<String> = ["CALLTRACKD_CONFIG", "CALLTRACKD_FIXTURES", "CALLTRACKD_SCREENSHOTS", "CALLTRACKD_BIN"]

    /// One line per unknown key of the file, then per unknown `CALLTRACKD_*` variable; empty when all are known.
    func problems(fileKeys: [String], environment: [String: String]) -> [ConfigProblem] {
        var problems: [ConfigProblem] = []
        for key in fileKeys.sorted() where !consulted.contains(key) {
            problems.append(ConfigProblem(key: key, explain(key)))
        }
        let variables = Dictionary(consulted.map { (Self.environmentName(of: $0), $0) }, uniquingKeysWith: { first, _ in first })
        for name in environment.keys.sorted() where name.hasPrefix("CALLTRACKD_") && !Self.otherVariables.contains(name) && variables[name] == nil {
            problems.append(ConfigProblem(environmentVariable: name, explain(variable: name, known: variables)))
        }
        return problems
    }

    /// `http.port` → `CALLTRACKD_HTTP_PORT`, as swift-configuration's environment provider names it.
    static func environmentName(of dotted: String) -> String {
        "CALLTRACKD_" + String(dotted.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    private func explain(_ key: String) -> String {
        if let section = skipped.first(where: { key.hasPrefix($0.prefix + ".") }) { return section.advice }
        let parts = key.split(separator: ".", maxSplits: 2)
        if parts.count >= 2, let listed = Self.listedSections.first(where: { $0.section == parts[0] }) {
            let id = "\(parts[0]).\(parts[1])."
            if !consulted.contains(where: { $0.hasPrefix(id) }) {
                return "not read: '\(parts[1])' is not listed in \(listed.listedIn); list it there or remove this section"
            }
        }
        return "unknown key" + suggestion(for: key, among: consulted)
    }

    private func explain(variable: String, known: [String: String]) -> String {
        if let section = skipped.first(where: { variable.hasPrefix(Self.environmentName(of: $0.prefix) + "_") }) { return section.advice }
        return "no config key has this name" + suggestion(for: variable, among: Set(known.keys))
    }

    /// "; did you mean `x`?" for the closest candidate within a few edits (a third of the key's length, at least 2).
    private func suggestion(for key: String, among candidates: Set<String>) -> String {
        let limit = max(2, key.count / 3)
        let best = candidates.map { (candidate: $0, distance: Self.editDistance(key, $0)) }
            .filter { $0.distance <= limit }
            .min { ($0.distance, $0.candidate) < ($1.distance, $1.candidate) }
        return best.map { "; did you mean `\($0.candidate)`?" } ?? ""
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let (a, b) = (Array(a), Array(b))
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
