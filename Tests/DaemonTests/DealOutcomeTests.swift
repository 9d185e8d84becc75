import CallTrackApp
import CallTrackCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PostgresSink
import Prometheus
import Store
import Testing
import TestSupport

/// The loop back from the CRM: a connector reports what became of a lead — through the admin API or by writing the
/// `outcome_report` table in PostgreSQL — and the lead carries it to every destination, once per stage however
/// often it is sent; a won deal joins Metrica's offline conversions with its amount.
@Suite("Deal outcomes from the CRM", .postgresCluster)
struct DealOutcomeTests {
    @Test("won through the API twice counts once; qualified through outcome_report; PostgreSQL and Metrica get them")
    func outcomesFromBothSides() async throws {
        let cluster = try #require(PostgresCluster.shared)
        let dir = TemporaryDirectory("outcomes")
        defer { dir.remove() }
        let schema = "t_outcome_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        var config = try ForgetPersonTests.config(dir)
        config.leads.minTalkSeconds = 0
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.postgres?.schema = schema
        config.postgres?.channel = schema
        config.postgres?.syncInterval = .milliseconds(100)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }
        let pg = PostgresConnection(cluster.connectionString(), logger: CallToLeadTests.quietLogger)
        defer { pg.close() }

        let number = try await ForgetPersonTests.allocate(port: port, session: "s_deal0000001", visitor: "v_deal0000001", browser: "A",
                                                          body: #","ym_uid":"1700000000987654321""#)
        let call = ForgetPersonTests.call("call-deal-1", to: number, from: try PhoneNumber.e164("+79161110042"), raw: "89161110042", name: "Buyer")
        await daemon.leads.handle(call)
        let opened = try #require(try await daemon.ledger.lead("call-deal-1")?.lead)
        let entries = { try await daemon.ledger.outbox.entries(after: 0, limit: 1000).filter { $0.key == "call-deal-1" }.count }
        let queued = try await entries()

        // The API: a won deal with its amount; the same report again changes nothing; mistakes get a 400 or 404.
        let body = #"{"stage":"won","amount":"125000.50","currency":"RUB","crm_deal_id":"D-17","at":"2026-12-07T10:00:00Z"}"#
        let first = try await Self.post(port: port, "/v1/admin/leads/call-deal-1/outcome", body)
        #expect(first.status == 200, "\(first.json)")
        #expect(first.json["changed"] as? Bool == true)
        let shown = try #require(first.json["lead"] as? [String: Any])
        #expect(shown["deal_stage"] as? String == "won" && shown["revision"] as? Int == Int(opened.revision) + 1)
        let outcome = try #require((shown["outcomes"] as? [[String: Any]])?.first)
        #expect(outcome["amount"] as? String == "125000.50" && outcome["currency"] as? String == "RUB" && outcome["reported_by"] as? String == "api")
        let again = try await Self.post(port: port, "/v1/admin/leads/call-deal-1/outcome", #"{"stage":"won","amount":125000.5,"currency":"rub","crm_deal_id":"D-17","at":"2026-12-07T13:00:00+03:00"}"#)
        #expect(again.status == 200 && again.json["changed"] as? Bool == false, "the same deal, written another way: \(again.json)")
        #expect(try await entries() == queued + 1, "one change queued for the destinations, not two")
        #expect(try await Self.post(port: port, "/v1/admin/leads/call-nobody/outcome", body).status == 404)
        let bad = try await Self.post(port: port, "/v1/admin/leads/call-deal-1/outcome", #"{"stage":"won","amount":"12.345","currency":"RUB"}"#)
        #expect(bad.status == 400 && "\(bad.json)".contains("two decimals"), "\(bad.json)")
        #expect(try await Self.post(port: port, "/v1/admin/leads/call-deal-1/outcome", body, token: "wrong-token-0123456789").status == 401)

        // PostgreSQL gets the won deal with the lead.
        let lead = "\"\(schema)\".lead"
        try await ForgetPersonTests.eventually("the won deal in PostgreSQL") {
            try await pg.query("SELECT deal_stage FROM \(lead) WHERE call_id = 'call-deal-1'").scalar() == "won"
        }
        let amount = try await pg.query("SELECT amount::text, crm_deal_id FROM \"\(schema)\".lead_outcome WHERE call_id = 'call-deal-1'").rows
        #expect(amount == [["125000.50", "D-17"]])

        // A connector that writes PostgreSQL instead: the qualification, reported twice, and one for no lead.
        try await pg.execute("""
            INSERT INTO "\(schema)".outcome_report (call_id, stage, occurred_at) VALUES
                ('call-deal-1', 'qualified', '2026-12-06T09:00:00Z'), ('call-deal-1', 'qualified', '2026-12-06T09:00:00Z'),
                ('call-unknown', 'won', now())
            """)
        try await ForgetPersonTests.eventually("the three reports taken") {
            try await pg.query("SELECT count(*) FROM \"\(schema)\".outcome_report WHERE taken_at IS NOT NULL").scalar() == "3"
        }
        let results = try await pg.query("SELECT call_id, result FROM \"\(schema)\".outcome_report ORDER BY id").rows
        #expect(results == [["call-deal-1", "recorded"], ["call-deal-1", "unchanged"], ["call-unknown", "no_lead"]])
        let stored = try #require(try await daemon.ledger.lead("call-deal-1")?.lead)
        #expect(stored.outcomes.map(\.stage) == [.qualified, .won] && stored.outcomes.first?.reportedBy == "postgres")
        #expect(stored.dealStage == .won && stored.revision == opened.revision + 2)
        try await ForgetPersonTests.eventually("both outcomes in PostgreSQL") {
            try await pg.query("SELECT jsonb_array_length(outcomes) FROM \(lead) WHERE call_id = 'call-deal-1'").scalar() == "2"
        }
        let window = try await pg.query("SELECT value FROM \"\(schema)\".setting WHERE key = 'callback_window_seconds'").scalar()
        #expect(window == "\(config.callbackWindow.components.seconds)", "the views count callbacks in the daemon's window")

        // Metrica: the won deal on the day the CRM won it, with its price; the calls export is unchanged.
        let won = try await MetricaExportTests.get(port: port, "/v1/admin/exports/metrica-conversions?date=2026-12-07&kind=won")
        #expect(won.status == 200)
        #expect(won.body == "ClientId,Target,DateTime,Price,Currency\r\n1700000000987654321,won,1796637600,125000.50,RUB\r\n", "\(won.body)")
        let none = try await MetricaExportTests.get(port: port, "/v1/admin/exports/metrica-conversions?date=2026-12-06&kind=won")
        #expect(none.body == "ClientId,Target,DateTime,Price,Currency\r\n")
        let wrongKind = try await MetricaExportTests.get(port: port, "/v1/admin/exports/metrica-conversions?date=2026-12-07&kind=lost")
        #expect(wrongKind.status == 400)
    }

    @Test("costs imported by the API and the command line reach PostgreSQL; the ROI report answers the same from the API and the terminal")
    func costsAndTheReport() async throws {
        let cluster = try #require(PostgresCluster.shared)
        let dir = TemporaryDirectory("roi")
        defer { dir.remove() }
        let schema = "t_roi_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        var config = try ForgetPersonTests.config(dir)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.postgres?.schema = schema
        config.postgres?.channel = schema
        config.postgres?.syncInterval = .milliseconds(100)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }
        let pg = PostgresConnection(cluster.connectionString(), logger: CallToLeadTests.quietLogger)
        defer { pg.close() }
        try await daemon.ledger.store(ROIFixture.leads, at: SystemClock().now())

        // Day 1 through the API (a cabinet's semicolons and decimal commas); a bad file changes nothing.
        let bad = try await Self.post(port: port, "/v1/admin/costs", "date;source;medium;campaign;cost;currency\n2026-12-01;google;cpc;pumps;abc;RUB\n")
        #expect(bad.status == 400 && "\(bad.json)".contains("line 2"), "\(bad.json)")
        let day1 = try await Self.post(port: port, "/v1/admin/costs", """
            date;source;medium;campaign;cost;currency
            01.12.2026;google;cpc;pumps;1 000,00;RUB
            01.12.2026;yandex;cpc;valves;500;RUB
            """)
        #expect(day1.status == 200 && day1.json["rows"] as? Int == 2 && (day1.json["total"] as? [String: String])?["RUB"] == "1500.00", "\(day1.json)")
        // Day 2 from the terminal, beside the running daemon.
        let file = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.path)" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: ["+74950000001", "+74950000002", "+74950000003", "+74950000004"] }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        try "date,source,medium,campaign,cost\n2026-12-02,Google,CPC,Pumps,300\n".write(toFile: dir.file("day2.csv"), atomically: true, encoding: .utf8)
        let imported = try await runProgram([DaemonProcess.executable.path, "costs", "import", "--config", file, dir.file("day2.csv"), "--currency", "RUB"])
        #expect(imported.status == 0 && imported.output.contains("imported 1 row(s)"), "\(imported.output)")

        // PostgreSQL gets all three, and its view agrees with the report.
        try await ForgetPersonTests.eventually("the costs in PostgreSQL") {
            try await pg.query("SELECT count(*) FROM \"\(schema)\".ad_cost").scalar() == "3"
        }
        try await ForgetPersonTests.eventually("the leads in PostgreSQL") {
            try await pg.query("SELECT count(*) FROM \"\(schema)\".lead").scalar() == "4"
        }
        let spbInPostgres = try await pg.query("""
            SELECT round(sum(cost), 2)::text FROM "\(schema)".roi_dealer_day WHERE model = 'linear' AND dealer_id = 'spb'
            """).scalar()
        #expect(spbInPostgres == "1133.33")

        let answer = try await MetricaExportTests.get(port: port, "/v1/admin/reports/roi?from=2026-12-01&to=2026-12-02&model=linear&by=dealer")
        #expect(answer.status == 200, "\(answer.body)")
        let json = try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]
        let rows = (json?["rows"] as? [[String: Any]]) ?? []
        let spb = rows.first { $0["name"] as? String == "spb" }
        #expect(spb?["cost"] as? String == "1133.33" && spb?["revenue"] as? String == "100000.00" && spb?["calls"] as? Double == 2, "\(rows)")
        #expect((json?["total"] as? [String: Any])?["cost"] as? String == "1800.00")
        let badModel = try await MetricaExportTests.get(port: port, "/v1/admin/reports/roi?from=2026-12-01&to=2026-12-02&model=coin")
        #expect(badModel.status == 400 && badModel.body.contains("linear"))

        let table = try await runProgram([DaemonProcess.executable.path, "report", "roi", "--config", file, "--from", "2026-12-01",
                                          "--to", "2026-12-02", "--by", "campaign"])
        #expect(table.status == 0, "\(table.output)")
        let pumps = table.output.split(separator: "\n").first { $0.hasPrefix("google / cpc / pumps") }.map(String.init) ?? ""
        #expect(pumps.contains("1300.00") && pumps.contains("2.50") && pumps.contains("50000.00") && pumps.contains("3746%"), "\(table.output)")
    }

    static func post(port: Int, _ path: String, _ body: String, token: String = ForgetPersonTests.token) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await OpenAPIConformance.data(for: request)
        return (response.statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }
}
