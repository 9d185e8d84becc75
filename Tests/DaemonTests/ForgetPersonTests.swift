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

/// Forgetting a person (SPEC §Privacy): one buyer with two devices, three calls from one phone and the merge those
/// calls made, forgotten through the admin API by one of their visitor ids; then every table of the state database
/// and of PostgreSQL is searched for anything that named them, and the anonymous counts are compared.
@Suite("Forgetting a person", .postgresCluster)
struct ForgetPersonTests {
    static let token = "test-admin-token-0123456789"
    static let phone = try! PhoneNumber.e164("+79161234567")
    static let otherPhone = try! PhoneNumber.e164("+79035550011")

    /// What named the person: visitor ids, visit ids, the phone (E.164 and as Asterisk sent it), the caller's
    /// name, both browsers, the landing pages and referrers, the analytics and click ids.
    static let person = [
        "v_desk7f3a01", "v_mob7f3a002", "s_desk7f3a01", "s_mob7f3a002", "+79161234567", "89161234567", "Ivan Petrov-7f3a",
        "DeskBrowser-7f3a", "MobileBrowser-7f3a", "landing-desk-7f3a", "landing-mob-7f3a", "ref-7f3a.example",
        "GA1.1.7f3a.1700000000", "gclid-7f3a",
    ]
    /// What names the other caller, who stays.
    static let other = ["v_other9c21", "s_other9c21", "+79035550011", "Control Caller-9c21", "OtherBrowser-9c21"]

    /// A daemon in `dir` with the admin API and one site of four numbers.
    static func config(_ dir: TemporaryDirectory) throws -> AppConfig {
        var config = AppConfig()
        config.dataDirectory = dir.path
        config.httpPort = 0
        config.api.adminToken = token
        config.sites = [Site(
            id: "acme", defaultNumber: try PhoneNumber.e164("+74950000000"),
            pools: [Pool(id: "main", numbers: try (1...4).map { try PhoneNumber.e164("+7495000000\($0)") })])]
        return config
    }

    /// The same site as a YAML config file over `dir`'s data, for the command line beside (or after) the daemon:
    /// `numbers` tracked numbers, then `extra` lines. Returns its path.
    static func configFile(_ dir: TemporaryDirectory, numbers: Int = 4, extra: String = "") throws -> String {
        let file = dir.file("calltrackd.yaml")
        let list = (1...numbers).map { "\"+7495000000\($0)\"" }.joined(separator: ", ")
        try """
            data: { dir: "\(dir.path)" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: [\(list)] }

            """.appending(extra).write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A call as Asterisk reported it: ended (missed) unless `ringing`.
    static func call(_ id: String, to number: String, from phone: PhoneNumber, raw: String, name: String, ringing: Bool = false) -> CallRecord {
        let now = SystemClock().now()
        return CallRecord(id: id, revision: ringing ? 1 : 3, trackingNumber: try! PhoneNumber.e164(number), dialled: number, caller: phone,
                          callerRaw: raw, callerWithheld: false, callerName: name, startedAt: now,
                          endedAt: ringing ? nil : now, disposition: ringing ? nil : "no_answer")
    }

    static func allocate(port: Int, session: String, visitor: String, browser: String, body extra: String) async throws -> String {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/v1/sessions")!)
        request.httpMethod = "POST"
        request.setValue("Mozilla/5.0 (\(browser))", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(#"{"site":"acme","session_id":"\#(session)","visitor_id":"\#(visitor)","utm_source":"google","utm_medium":"cpc","utm_campaign":"pumps"\#(extra)}"#.utf8)
        let (data, _) = try await OpenAPIConformance.data(for: request)
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["number"] as? String ?? ""
    }

    static func request(port: Int, _ method: String, _ path: String, token: String = token) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await OpenAPIConformance.data(for: request)
        return (response.statusCode, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    /// Every base table and column of `schema`, from PostgreSQL's catalog, that holds any of `texts`.
    static func postgresOccurrences(_ pg: PostgresConnection, schema: String, _ texts: [String]) async throws -> [String] {
        let columns = try await pg.query("""
            SELECT c.table_name, c.column_name FROM information_schema.columns c
            JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
            WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE' ORDER BY 1, 2
            """, [schema]).rows
        #expect(columns.count > 30, "the catalog lists the lead, crm_sync, visitor_merge and schema_migration columns")
        var found: [String] = []
        for row in columns {
            guard let table = row[0], let column = row[1] else { continue }
            for text in texts {
                let count = try await pg.query(
                    "SELECT count(*) FROM \"\(schema)\".\"\(table)\" WHERE strpos(\"\(column)\"::text, $1) > 0", [text]).rows.first?.first ?? nil
                if let count, count != "0" { found.append("\(table).\(column) holds '\(text)' in \(count) row(s)") }
            }
        }
        return found
    }

    /// Polls `condition` (PostgreSQL is another process), bounded.
    static func eventually(_ what: String, _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        try await within(.seconds(60), waitingFor: what) {
            while try await !condition() { try await Task.sleep(for: .milliseconds(50)) }
        }
    }

    @Test("two devices, three calls and a merge, forgotten by one visitor id: no table of SQLite or PostgreSQL names them; the counts stay")
    func forgetAcrossBothDatabases() async throws {
        let cluster = try #require(PostgresCluster.shared)
        let dir = TemporaryDirectory("forget")
        defer { dir.remove() }
        let schema = "t_forget_\(String(UInt32.random(in: 0...UInt32.max), radix: 36))"
        var config = try Self.config(dir)
        config.postgres = PostgresSettings(conninfo: cluster.connectionString())
        config.postgres?.schema = schema
        config.postgres?.channel = schema
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }
        let pg = PostgresConnection(cluster.connectionString(), logger: CallToLeadTests.quietLogger)
        defer { pg.close() }

        // The desktop visit, then a call; the phone visit days later (another cookie), then two calls from the same phone.
        let desk = try await Self.allocate(port: port, session: "s_desk7f3a01", visitor: "v_desk7f3a01", browser: "DeskBrowser-7f3a",
                                           body: #","landing_url":"https://acme.example/landing-desk-7f3a?gclid=gclid-7f3a","referrer":"https://ref-7f3a.example/","ga_client_id":"GA1.1.7f3a.1700000000""#)
        let other = try await Self.allocate(port: port, session: "s_other9c21", visitor: "v_other9c21", browser: "OtherBrowser-9c21", body: "")
        await daemon.leads.handle(Self.call("call-1", to: desk, from: Self.phone, raw: "89161234567", name: "Ivan Petrov-7f3a"))
        let mobile = try await Self.allocate(port: port, session: "s_mob7f3a002", visitor: "v_mob7f3a002", browser: "MobileBrowser-7f3a",
                                             body: #","landing_url":"https://acme.example/landing-mob-7f3a""#)
        await daemon.leads.handle(Self.call("call-2", to: mobile, from: Self.phone, raw: "89161234567", name: "Ivan Petrov-7f3a"))
        await daemon.leads.handle(Self.call("call-3", to: mobile, from: Self.phone, raw: "+79161234567", name: "Ivan Petrov-7f3a"))
        await daemon.leads.handle(Self.call("call-4", to: other, from: Self.otherPhone, raw: "89035550011", name: "Control Caller-9c21"))
        #expect(Set([desk, other, mobile]).count == 3)
        let merges = try await daemon.ledger.merges()
        #expect(merges.map(\.merged) == ["v_mob7f3a002"], "the phone made one person of the two devices")
        try await Self.eventually("the four leads and the merge in PostgreSQL") {
            let leads = try await pg.query("SELECT count(*) FROM \"\(schema)\".lead").rows.first?.first ?? nil
            let merges = try await pg.query("SELECT count(*) FROM \"\(schema)\".visitor_merge").rows.first?.first ?? nil
            return leads == "4" && merges == "1"
        }
        let names = Self.person + Self.other
        // Before: the search finds them (the search can fail).
        let before = Set(try await daemon.store.occurrences(of: names).map(\.text))
        #expect(before == Set(names), "every identifier is stored somewhere before: \(Set(names).subtracting(before))")
        let pgBefore = try await Self.postgresOccurrences(pg, schema: schema, names)
        for text in ["v_desk7f3a01", "v_mob7f3a002", "+79161234567", "Ivan Petrov-7f3a", "DeskBrowser-7f3a", "landing-desk-7f3a"] {
            #expect(pgBefore.contains { $0.contains("'\(text)'") }, "PostgreSQL holds \(text) before")
        }
        let countsBefore = try await Self.counts(daemon, pg, schema)

        // An admin token forgets the whole person by their second device's id; an unknown or malformed id changes nothing.
        #expect(try await Self.request(port: port, "DELETE", "/v1/admin/people/v_nobody0001").status == 404)
        #expect(try await Self.request(port: port, "DELETE", "/v1/admin/people/a%20b").status == 400)
        let answer = try await Self.request(port: port, "DELETE", "/v1/admin/people/v_mob7f3a002")
        #expect(answer.status == 200)
        #expect(answer.json["visitor_id"] as? String == "v_mob7f3a002")
        #expect(answer.json["visitors"] as? Int == 2)
        #expect(answer.json["leads"] as? Int == 3)
        #expect(answer.json["calls"] as? Int == 3)
        #expect(answer.json["merges"] as? Int == 1)
        #expect(answer.json["by"] as? String == "admin.token")
        try await Self.eventually("the erasure delivered to PostgreSQL") {
            try await daemon.ledger.outbox.stats(for: PostgresLeadDestination.defaultName).pending == 0
        }

        // Their leases ended in memory too (a later touch or expiry would write their ids again); the other's stays.
        let live = daemon.book.allSites.flatMap(\.pools).flatMap { daemon.book.liveLeases(pool: $0.id) }.map(\.visitorID)
        #expect(!live.contains("v_desk7f3a01") && !live.contains("v_mob7f3a002"), "\(live)")
        #expect(live.contains("v_other9c21"))

        // After: nothing names them in any table of either database, except the erasure record's visitor id.
        let after = try await daemon.store.occurrences(of: Self.person)
        #expect(after.map(\.description) == ["erasure.visitor_id holds 'v_mob7f3a002' in 1 row(s)"])
        #expect(try await Self.postgresOccurrences(pg, schema: schema, Self.person) == [])
        // The other caller is all there, in both.
        #expect(Set(try await daemon.store.occurrences(of: Self.other).map(\.text)) == Set(Self.other))
        #expect(try await Self.postgresOccurrences(pg, schema: schema, ["v_other9c21", "+79035550011", "Control Caller-9c21"]).count >= 3)
        // Anonymous counts: every row is still there, with its match kind, source and verdict.
        #expect(try await Self.counts(daemon, pg, schema) == countsBefore)
        let erasures = try await daemon.ledger.erasures()
        #expect(erasures.count == 1 && erasures.first?.by == "admin.token")
        // Asking again finds nothing left of them.
        #expect(try await Self.request(port: port, "DELETE", "/v1/admin/people/v_desk7f3a01").status == 404)
    }

    @Test("forgotten by phone: refused while their call rings, then their person goes with the call, and their live leases end")
    func forgetByPhoneAfterTheCallEnds() async throws {
        let dir = TemporaryDirectory("forget-phone")
        defer { dir.remove() }
        let config = try Self.config(dir)
        let daemon = try await Daemon.open(config: config, registry: PrometheusCollectorRegistry(), logger: CallToLeadTests.quietLogger)
        let (port, running) = try await daemon.serving()
        defer { running.cancel() }

        let number = try await Self.allocate(port: port, session: "s_desk7f3a01", visitor: "v_desk7f3a01", browser: "DeskBrowser-7f3a", body: "")
        let other = try await Self.allocate(port: port, session: "s_other9c21", visitor: "v_other9c21", browser: "OtherBrowser-9c21", body: "")
        var call = Self.call("call-1", to: number, from: Self.phone, raw: "89161234567", name: "Ivan Petrov-7f3a", ringing: true)
        await daemon.leads.handle(call)
        // The phone is bound to the visitor whose number it called: a second visit of theirs holds a number too.
        _ = try await Self.allocate(port: port, session: "s_mob7f3a002", visitor: "v_desk7f3a01", browser: "MobileBrowser-7f3a", body: "")

        let ringing = try await Self.request(port: port, "DELETE", "/v1/admin/people/phone:+79161234567")
        #expect(ringing.status == 409)
        #expect((ringing.json["error"] as? String)?.contains("has not ended: nothing erased") == true, "\(ringing.json)")
        #expect(try await daemon.ledger.erasures().isEmpty)

        call.revision = 3
        call.endedAt = SystemClock().now()
        call.disposition = "no_answer"
        await daemon.leads.handle(call)
        let answer = try await Self.request(port: port, "DELETE", "/v1/admin/people/phone:+79161234567")
        #expect(answer.status == 200, "\(answer.json)")
        #expect(answer.json["visitor_id"] as? String == "v_desk7f3a01")
        #expect(answer.json["calls"] as? Int == 1 && answer.json["leads"] as? Int == 1)
        let live = daemon.book.allSites.flatMap(\.pools).flatMap { daemon.book.liveLeases(pool: $0.id) }
        #expect(!live.contains { $0.visitorID == "v_desk7f3a01" }, "the person's leases ended: \(live.map(\.visitorID))")
        #expect(live.contains { $0.visitorID == "v_other9c21" && $0.number.e164 == other })
        let after = try await daemon.store.occurrences(of: ["v_desk7f3a01", "s_desk7f3a01", "s_mob7f3a002", "+79161234567", "89161234567", "Ivan Petrov-7f3a"])
        #expect(after.map(\.description) == ["erasure.visitor_id holds 'v_desk7f3a01' in 1 row(s)"])
    }

    /// Rows per table, and the leads' anonymous columns, in both databases.
    static func counts(_ daemon: Daemon, _ pg: PostgresConnection, _ schema: String) async throws -> [String] {
        var counts: [String] = []
        for table in ["session", "lease", "call", "lead"] { counts.append("\(table): \(try await daemon.store.count(table))") }
        counts += try await daemon.ledger.leads(limit: 10).compactMap(\.lead).map {
            "\($0.callID) \($0.match.kind) \($0.firstTouch?.campaign ?? "-") \($0.isLead) \($0.talkSeconds) \($0.trackingNumber)"
        }.sorted()
        counts += try await pg.query("""
            SELECT call_id || ' ' || match_kind || ' ' || coalesce(first_touch ->> 'campaign', '-') || ' ' || is_lead || ' ' || tracking_number
            FROM "\(schema)".lead ORDER BY call_id
            """).rows.map { $0.first.flatMap { $0 } ?? "" }
        return counts
    }
}
