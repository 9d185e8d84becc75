import Foundation
import Testing
import TestSupport

/// `calltrackd simulate`: the person buying numbers reads the first line, plots the JSON or CSV.
@Suite("calltrackd simulate")
struct SimulateCommandTests {
    @Test("--json: a row per size tried, Erlang B's pool, and the smallest size meeting the target; a tiny pool misattributes, a big one does not")
    func json() async throws {
        let result = try await DaemonProcess.run(["simulate", "--visits-per-day", "800", "--days", "2", "--sizes", "4,200", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let rows = try #require(answer["rows"] as? [[String: Any]])
        #expect(rows.map { $0["pool_size"] as? Int } == [4, 200])
        #expect((rows[0]["correct"] as? Int ?? 0) < (rows[1]["correct"] as? Int ?? 0))
        #expect(answer["smallest_meeting_target"] as? Int == 200)
        #expect((answer["recommended_erlang_b"] as? Int ?? 0) > 4)
    }

    @Test("the text starts with the sentence a person reads first; a bad option says what to write")
    func text() async throws {
        let result = try await DaemonProcess.run(["simulate", "--visits-per-day", "800", "--days", "1", "--sizes", "200"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.hasPrefix("200 numbers credit ≥ 99.00% of calls to the visit that made them"), "\(result.output)")
        let bad = try await DaemonProcess.run(["simulate", "--call-delay", "soon"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("--call-delay must be a duration"), "\(bad.output)")
    }
}
