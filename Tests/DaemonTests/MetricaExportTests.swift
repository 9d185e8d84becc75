import CallTrackApp
import CallTrackCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Prometheus
import Testing
import TestSupport

/// Yandex Metrica's offline conversions from the leads: a visit with a `_ym_uid` that called becomes a row of the
/// day's CSV, through the admin API and the command line alike; a visit without one, a junk call and another day do
/// not.
@Suite("Metrica offline conversions export")
struct MetricaExportTests {
    @Test("the day's leads with a _ym_uid, one row each, the same from GET /v1/admin/exports/metrica-conversions and calltrackd export metrica")
    func dayOfLeadsAsMetricaCSV() async throws {
        let dir = TemporaryDirectory("metrica-export")
        defer { dir.remove() }
        var config = try ForgetPersonTests.config(dir)
        config.leads.minTalkSeconds = 0
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }

        let withMetrica = try await ForgetPersonTests.allocate(port: port, session: "s_ym00000001", visitor: "v_ym00000001", browser: "A",
                                                               body: #","ym_uid":"1700000000123456789""#)
        let without = try await ForgetPersonTests.allocate(port: port, session: "s_ym00000002", visitor: "v_ym00000002", browser: "B", body: "")
        let first = ForgetPersonTests.call("call-ym-1", to: withMetrica, from: try PhoneNumber.e164("+79161110001"), raw: "89161110001", name: "A")
        await daemon.leads.handle(first)
        await daemon.leads.handle(ForgetPersonTests.call("call-ym-2", to: without, from: try PhoneNumber.e164("+79161110002"), raw: "89161110002", name: "B"))
        let leads = try await daemon.ledger.leads(limit: 10).compactMap(\.lead)
        #expect(leads.count == 2 && leads.allSatisfy(\.isLead), "\(leads.map(\.callID))")

        let day = first.startedAt.utc
        let date = "\(day.year)-\(Timestamp.pad(day.month, 2))-\(Timestamp.pad(day.day, 2))"
        let answer = try await Self.get(port: port, "/v1/admin/exports/metrica-conversions?date=\(date)&target=phone_call")
        #expect(answer.status == 200)
        let expected = "ClientId,Target,DateTime,Price,Currency\r\n1700000000123456789,phone_call,\(first.startedAt.microsecondsSinceEpoch / 1_000_000),,\r\n"
        #expect(answer.body == expected)
        // Another day has none; a malformed day is a clear error.
        let empty = try await Self.get(port: port, "/v1/admin/exports/metrica-conversions?date=2001-01-01")
        #expect(empty.body == "ClientId,Target,DateTime,Price,Currency\r\n")
        let bad = try await Self.get(port: port, "/v1/admin/exports/metrica-conversions?date=yesterday")
        #expect(bad.status == 400 && bad.body.contains("YYYY-MM-DD"), "\(bad.body)")

        // The command line writes the same file (a YAML config over the same data folder).
        running.cancel()
        let file = try ForgetPersonTests.configFile(dir)
        let written = try await runProgram([DaemonProcess.executable.path, "export", "metrica", "--config", file, "--date", date,
                                            "--target", "phone_call", "--to", dir.path])
        #expect(written.status == 0, "\(written.output)")
        #expect(written.output.contains("1 conversion(s)") && written.output.contains("1 lead(s) had no _ym_uid"), "\(written.output)")
        #expect(try String(contentsOfFile: dir.file("metrica-conversions-\(date).csv"), encoding: .utf8) == expected)
    }

    static func get(port: Int, _ path: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("Bearer \(ForgetPersonTests.token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await OpenAPIConformance.data(for: request)
        return (response.statusCode, String(decoding: data, as: UTF8.self))
    }
}
