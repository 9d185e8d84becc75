import Foundation
import Hummingbird
import Testing
import TestSupport

/// deploy/grafana/calltrackd-dashboard.json asks Prometheus only for series the real daemon exposes: a metric
/// renamed in the code, or a label value changed, fails here instead of leaving a panel empty.
@Suite("Grafana dashboard")
struct GrafanaDashboardTests {
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../deploy/grafana/calltrackd-dashboard.json").standardized

    @Test("every metric and exact label value the dashboard's queries use is on the /metrics of a daemon with a pool, AMI and PostgreSQL configured")
    func queriesUseExposedMetrics() async throws {
        let queries = try Self.queries()
        let selectors = queries.flatMap(PromQLSelectors.find)
        let names = Set(selectors.map(\.metric))
        // What the dashboard promises to show: per pool leases vs size, allocations, exhaustions, calls by match
        // kind (and so the collision rate); HTTP, AMI, store and lead-destination health.
        for family in ["calltrackd_pool_numbers", "calltrackd_pool_sessions_total", "calltrackd_pool_exhaustions_total",
                       "calltrackd_pool_calls_total", "calltrackd_http_connections", "calltrackd_ami_connected",
                       "calltrackd_store_transactions_total", "calltrackd_destination_up", "calltrackd_outbox_depth"] {
            #expect(names.contains(family), "the dashboard has no panel over \(family)")
        }
        #expect(names.allSatisfy { $0.hasPrefix("calltrackd_") }, "metrics the daemon does not make: \(names.filter { !$0.hasPrefix("calltrackd_") })")

        let dir = TemporaryDirectory("grafana")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        // AMI and PostgreSQL on a port nothing listens on: their metrics exist whether or not they are reachable.
        try """
            data: { dir: "\(dir.file("data"))" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [paid-search] }
            pool:
              paid-search: { numbers: ["+74950000001", "+74950000002"] }
            ami: { host: 127.0.0.1, port: 1, username: calltrackd, secret: nothing-listens }
            postgres: { url: "host=127.0.0.1 port=1 dbname=crm connect_timeout=1" }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        defer { daemon.killNow() }
        // The pool gauges come with the sweeper's first pass, just after the daemon starts listening.
        let exposition = try await within(.seconds(60), waitingFor: "the pool gauges on /metrics") {
            while true {
                let (status, body) = try await LoopbackHTTP.request(daemon.baseURL, .get, "/metrics")
                let text = String(decoding: body, as: UTF8.self)
                if status == 200, text.contains("calltrackd_pool_numbers{") { return text }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        let exposed = PrometheusExposition(exposition)
        for name in names.sorted() {
            #expect(exposed.names.contains(name), "the dashboard queries \(name), which /metrics does not expose")
        }
        for selector in selectors {
            for (label, value) in selector.exactLabels {
                #expect(exposed.has(selector.metric, label: label, value: value),
                        "the dashboard selects \(selector.metric){\(label)=\"\(value)\"}, which no series on /metrics has")
            }
        }
    }

    @Test("the selectors are read as Prometheus reads them: names, exact matchers, no functions or label names taken for metrics")
    func selectorReader() {
        let found = PromQLSelectors.find(#"sum by (pool) (increase(calltrackd_pool_calls_total{match="shared", pool=~"$pool"}[1h])) / on() calltrackd_x_total"#)
        #expect(found.map(\.metric) == ["calltrackd_pool_calls_total", "calltrackd_x_total"])
        #expect(PromQLSelectors.find("label_values(calltrackd_pool_numbers, pool)").map(\.metric) == ["calltrackd_pool_numbers"])
        #expect(PromQLSelectors.find("histogram_quantile(0.99, sum by (le, destination) (rate(calltrackd_lead_batch_seconds_bucket[5m])))").map(\.metric)
                == ["calltrackd_lead_batch_seconds_bucket"])
        #expect(found.first.map { $0.exactLabels.map { "\($0.0)=\($0.1)" } } == ["match=shared"])
        let exposition = PrometheusExposition("""
            # TYPE calltrackd_pool_numbers gauge
            calltrackd_pool_numbers{pool="paid-search",state="live"} 0
            calltrackd_store_wal_pages 3
            """)
        #expect(exposition.names == ["calltrackd_pool_numbers", "calltrackd_store_wal_pages"])
        #expect(exposition.has("calltrackd_pool_numbers", label: "state", value: "live"))
        #expect(!exposition.has("calltrackd_pool_numbers", label: "state", value: "free"))
    }

    /// Every PromQL text in the dashboard: the panels' `expr` (rows' panels too) and the query variables' queries.
    static func queries() throws -> [String] {
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: file)) as? [String: Any])
        var found: [String] = []
        func walk(_ value: Any) {
            switch value {
            case let object as [String: Any]:
                for (key, inner) in object {
                    if key == "expr", let text = inner as? String { found.append(text) } else { walk(inner) }
                }
            case let array as [Any]: for inner in array { walk(inner) }
            default: break
            }
        }
        walk(json["panels"] ?? [])
        let variables = (json["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? []
        for variable in variables where variable["type"] as? String == "query" {
            if let text = variable["query"] as? String { found.append(text) }
            if let text = (variable["query"] as? [String: Any])?["query"] as? String { found.append(text) }
        }
        #expect(found.count > 20, "the dashboard's queries were not found where Grafana keeps them")
        return found
    }
}

/// The series selectors in a PromQL text: each metric name and its exact (`=`) matchers. Names are the
/// identifiers that are not functions, keywords, label names in `by (…)`/`on (…)` lists, or inside braces.
enum PromQLSelectors {
    struct Selector {
        var metric: String
        var exactLabels: [(String, String)]
    }

    static func find(_ query: String) -> [Selector] {
        let text = Array(query)
        var selectors: [Selector] = []
        var i = 0
        while i < text.count {
            let c = text[i]
            if c == "\"" {
                i += 1
                while i < text.count, text[i] != "\"" { i += text[i] == "\\" ? 2 : 1 }
                i += 1
            } else if c == "[" {
                while i < text.count, text[i] != "]" { i += 1 }
            } else if c.isLetter || c == "_" {
                let start = i
                while i < text.count, text[i].isLetter || text[i].isNumber || text[i] == "_" || text[i] == ":" { i += 1 }
                let word = String(text[start..<i])
                var next = i
                while next < text.count, text[next] == " " { next += 1 }
                // Label names: `by (pool)`, `on ()`, and label_values's second argument.
                if ["by", "without", "on", "ignoring", "group_left", "group_right"].contains(word) {
                    if next < text.count, text[next] == "(" { skipParentheses(text, &next); i = next }
                    continue
                }
                if word == "label_values", next < text.count, text[next] == "(" {
                    let close = text[next...].firstIndex(of: ")") ?? text.count
                    let metric = String(text[(next + 1)..<close]).split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) }
                    if let metric, !metric.isEmpty { selectors += find(metric) }
                    i = close + 1
                    continue
                }
                let isCall = next < text.count && text[next] == "("
                if isCall || keywords.contains(word) || Double(word) != nil { continue }
                var selector = Selector(metric: word, exactLabels: [])
                if next < text.count, text[next] == "{" {
                    let close = text[next...].firstIndex(of: "}") ?? text.count
                    selector.exactLabels = matchers(String(text[(next + 1)..<close]))
                    i = close + 1
                }
                selectors.append(selector)
            } else {
                i += 1
            }
        }
        return selectors
    }

    /// Words that are not metrics: operators, and aggregations (`sum by (pool) (…)` has no parenthesis after `sum`).
    static let keywords: Set<String> = [
        "and", "or", "unless", "bool", "offset", "inf", "nan", "Inf", "NaN",
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk", "topk", "quantile",
    ]

    static func skipParentheses(_ text: [Character], _ i: inout Int) {
        while i < text.count, text[i] != ")" { i += 1 }
        i += 1
    }

    /// `label="value"` matchers only; `=~`, `!=`, `!~` and values with a template variable are skipped.
    static func matchers(_ inside: String) -> [(String, String)] {
        inside.split(separator: ",").compactMap { part in
            let trimmed = part.trimmingCharacters(in: .whitespaces)
            guard let equals = trimmed.firstIndex(of: "="), equals > trimmed.startIndex else { return nil }
            let label = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let rest = trimmed[trimmed.index(after: equals)...]
            guard !label.hasSuffix("!"), !rest.hasPrefix("~"), rest.hasPrefix("\""), rest.hasSuffix("\""), !rest.contains("$") else { return nil }
            return (label, String(rest.dropFirst().dropLast()))
        }
    }
}

/// The samples of a Prometheus text exposition: each series' name and labels.
struct PrometheusExposition {
    var series: [(name: String, labels: [String: String])] = []
    var names: Set<String> { Set(series.map(\.name)) }

    init(_ text: String) {
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            var labels: [String: String] = [:]
            if let open = line.firstIndex(of: "{"), let close = line.lastIndex(of: "}") {
                for pair in line[line.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { labels[String(parts[0])] = String(parts[1].dropFirst().dropLast()) }
                }
            }
            if !name.isEmpty { series.append((name, labels)) }
        }
    }

    func has(_ name: String, label: String, value: String) -> Bool {
        series.contains { $0.name == name && $0.labels[label] == value }
    }
}
