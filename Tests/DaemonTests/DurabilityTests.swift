import Foundation
import Synchronization
import Testing
import TestSupport

/// The real daemon process: an acknowledged lease survives `kill -9`, at several kill points.
@Suite("Durability of the real daemon process", .serialized)
struct DurabilityTests {
    static func config(in dir: TemporaryDirectory, numbers: Int) -> String {
        let list = (0..<numbers).map { "\"+7495\(String(format: "%07d", 1_000_000 + $0))\"" }.joined(separator: ", ")
        let yaml = """
            data: { dir: "\(dir.file("data"))" }
            log: { level: info }
            limits:
              per_ip: { burst: 1000000, per_minute: 1000000 }
              per_visitor: { burst: 1000000, per_minute: 1000000 }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: [\(list)] }
            """
        let path = dir.file("calltrackd.yaml")
        try! yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("kill -9 mid-load, restart: every lease answered with 200 is still held by its session", arguments: [5, 40, 120])
    func killNineLosesNothing(killAfter: Int) async throws {
        let dir = TemporaryDirectory("durability")
        defer { dir.remove() }
        // Clients keep sending until the daemon is killed, so the kill always lands mid-load, however
        // fast the daemon answers (a fixed batch of requests could all be answered before the SIGKILL).
        let clients = 32, maxRequests = 20_000
        let config = Self.config(in: dir, numbers: 1600)
        let daemon = try await DaemonProcess(config: config)
        let acknowledged = Locked<[String: String]>([:])
        let sent = Locked(0)
        let unanswered = Locked(0)
        let killed = Locked(false)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<clients {
                group.addTask {
                    while true {
                        let index = sent.withLock { count -> Int? in
                            guard count < maxRequests else { return nil }
                            count += 1
                            return count
                        }
                        guard let index else { return }
                        let session = "sess_\(killAfter)_\(100_000 + index)"
                        let answer = await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"\#(session)","visitor_id":"vis_\#(session)"}"#)
                        guard let answer, answer.status == 200 else {
                            unanswered.withLock { $0 += 1 }
                            return  // the daemon is gone
                        }
                        guard answer.body["kind"] as? String == "pool", let number = answer.body["number"] as? String else { continue }
                        let count = acknowledged.withLock { $0[session] = number; return $0.count }
                        if count >= killAfter, killed.withLock({ was in defer { was = true }; return !was }) { await daemon.kill() }
                    }
                }
            }
        }
        if killed.withLock({ !$0 }) { await daemon.kill() }
        let answered = acknowledged.withLock { $0 }
        #expect(answered.count >= killAfter)
        // The kill lands mid-load: clients were still sending, and their requests went unanswered.
        #expect(unanswered.withLock { $0 } > 0)
        #expect(sent.withLock { $0 } < maxRequests)

        let restarted = try await DaemonProcess(config: config)
        defer { restarted.killNow() }
        #expect(restarted.log.contains("live_leases="))
        for (session, number) in answered {
            let again = await restarted.post("/v1/sessions", #"{"site":"acme","session_id":"\#(session)","visitor_id":"vis_\#(session)"}"#)
            #expect(again?.body["number"] as? String == number, "session \(session) lost its lease on \(number)")
            #expect(again?.body["kind"] as? String == "pool")
        }
        // And no number went to two sessions across the crash.
        #expect(Set(answered.values).count == answered.count)
    }

    @Test("SIGTERM: the daemon finishes, exits 0, and its leases are there after a restart")
    func gracefulShutdown() async throws {
        let dir = TemporaryDirectory("graceful")
        defer { dir.remove() }
        let config = Self.config(in: dir, numbers: 10)
        let daemon = try await DaemonProcess(config: config)
        let first = await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"sess_graceful1"}"#)
        let number = try #require(first?.body["number"] as? String)
        #expect(await daemon.terminate() == 0)
        #expect(daemon.log.contains("calltrackd stopped"))
        let restarted = try await DaemonProcess(config: config)
        defer { restarted.killNow() }
        let again = await restarted.post("/v1/sessions", #"{"site":"acme","session_id":"sess_graceful1"}"#)
        #expect(again?.body["number"] as? String == number)
    }
}

@Suite("calltrackd check-config")
struct CheckConfigTests {
    @Test("the example config is valid")
    func exampleIsValid() async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/calltrackd.example.yaml").path
        let result = try await DaemonProcess.run(["check-config", "--config", example])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("config OK: 1 site(s)"))
    }

    @Test("a wrong value names its key, its env variable, and what to write", arguments: [
        (["CALLTRACKD_HTTP_PORT": "eighty"], "config key http.port (env CALLTRACKD_HTTP_PORT)"),
        (["CALLTRACKD_POOL_ACME_MAIN_COOLDOWN": "later"], "pool.acme-main.cooldown"),
        (["CALLTRACKD_SITE_ACME_DEFAULT_NUMBER": "12"], "is not a phone number"),
        (["CALLTRACKD_SITE_ACME_ORIGINS": "acme.example/path"], "is not an origin"),
        (["CALLTRACKD_POOL_ACME_MAIN_ON_EXHAUSTION": "panic"], "write fallback or share"),
        (["CALLTRACKD_POSTGRES_URL": "dbname=crm", "CALLTRACKD_POSTGRES_SCHEMA": "Bad-Name"], "config key postgres.schema"),
        (["CALLTRACKD_AMI_HOST": "pbx.example"], "config key ami.username"),
        (["CALLTRACKD_LEADS_BLOCK_LIST": "+7495,spam"], "leads.block_list"),
        (["CALLTRACKD_IDENTITY_LINK_BY": "ga,cookie"], "identity.link_by[1]"),
        (["CALLTRACKD_HTTP_TRUSTED_PROXIES": "10.0.0.0/8,nginx.lan"], "http.trusted_proxies[1]"),
    ])
    func badValue(environment: [String: String], expected: String) async throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("deploy/calltrackd.example.yaml").path
        let result = try await DaemonProcess.run(["check-config", "--config", example], environment: environment)
        #expect(result.status != 0)
        #expect(result.output.contains(expected), "\(result.output)")
    }

    @Test("a missing config file says which path it tried")
    func missingFile() async throws {
        let result = try await DaemonProcess.run(["check-config", "--config", "/nonexistent/calltrackd.yaml"])
        #expect(result.status != 0)
        #expect(result.output.contains("/nonexistent/calltrackd.yaml"))
    }
}
