import Foundation
import Testing
import TestSupport

/// A backup taken while the daemon works holds everything acknowledged before it started; a restore puts it
/// back, never under a running daemon, and keeps what it replaces.
@Suite("Backup and restore of the state", .serialized)
struct BackupRestoreTests {
    static func config(in dir: TemporaryDirectory, data: String, amiPort: Int?) -> String {
        let pool = (0..<800).map { "\"+7495\(String(format: "%07d", 1_000_000 + $0))\"" }.joined(separator: ", ")
        let calls = (1...7).map { "\"+7495000000\($0)\"" }.joined(separator: ", ")
        let yaml = """
            data: { dir: "\(dir.file(data))" }
            log: { level: info }
            limits:
              per_ip: { burst: 1000000, per_minute: 1000000 }
              per_visitor: { burst: 1000000, per_minute: 1000000 }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main, calls] }
            pool:
              main: { numbers: [\(pool)] }
              calls: { numbers: [\(calls)] }
            \(amiPort.map { "ami: { host: 127.0.0.1, port: \($0), username: calltrackd, secret: calltrackd, auth: md5 }" } ?? "")
            """
        let path = dir.file("\(data).yaml")
        try! yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// `calltrackd <arguments>`, to completion.
    static func command(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await runProgram([DaemonProcess.executable.path] + arguments)
    }

    /// Call ids of the leads `calltrackd leads --json` lists.
    static func leadIDs(_ config: String) async throws -> Set<String> {
        let (status, output) = try await command(["leads", "--config", config, "--json", "--limit", "1000"])
        #expect(status == 0, "\(output)")
        return Set(output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["call_id"] as? String
        })
    }

    @Test("a backup taken under allocation load holds every lease and lead acknowledged before it started; restored, the daemon serves them")
    func backupUnderLoadRestores() async throws {
        let dir = TemporaryDirectory("backup")
        defer { dir.remove() }
        let fixture = try AMIFixtures.load("11-mixed-traffic")
        let fake = try await FakeAsterisk.start([FakeAsterisk.Script(replay: try #require(fixture.bytesAfterLogin))])
        let live = Self.config(in: dir, data: "live", amiPort: fake.port)
        let daemon = try await DaemonProcess(config: live)

        // The recorded calls become leads (40 calls in the transcript).
        var leads: Set<String> = []
        for _ in 0..<300 where leads.count < 40 {
            leads = try await Self.leadIDs(live)
            if leads.count < 40 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(leads.count == 40, "the transcript's calls did not all become leads within 30 s:\n\(daemon.log.suffix(3000))")

        // Allocations keep coming while the backup runs.
        let acknowledged = Locked<[String: String]>([:])
        let backupStarted = Locked<[String: String]?>(nil)
        let stop = Locked(false)
        let backup = dir.file("state.backup")
        let result = try await withThrowingTaskGroup(of: (Int32, String)?.self) { group in
            for client in 0..<16 {
                group.addTask {
                    var index = 0
                    while !stop.withLock({ $0 }) {
                        index += 1
                        let session = "sess_\(client)_\(index)"
                        guard let answer = await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"\#(session)","visitor_id":"vis_\#(session)"}"#),
                              answer.status == 200, let number = answer.body["number"] as? String else { continue }
                        acknowledged.withLock { $0[session] = number }
                    }
                    return nil
                }
            }
            group.addTask {
                while acknowledged.withLock({ $0.count }) < 300 { try await Task.sleep(for: .milliseconds(10)) }
                backupStarted.withLock { $0 = acknowledged.withLock { $0 } }
                let result = try await Self.command(["backup", "--config", live, "--to", backup])
                stop.withLock { $0 = true }
                return result
            }
            var result: (Int32, String)?
            for try await finished in group { if let finished { result = finished } }
            return try #require(result)
        }
        #expect(result.0 == 0, "\(result.1)")
        #expect(result.1.contains("40 leads"), "\(result.1)")
        let before = try #require(backupStarted.withLock { $0 })
        #expect(acknowledged.withLock { $0.count } > before.count, "allocations went on during the backup")
        #expect(await daemon.terminate() == 0)

        // Restored into another data folder, the daemon has every lease and lead acknowledged before the backup.
        let restoredConfig = Self.config(in: dir, data: "restored", amiPort: nil)
        let restore = try await Self.command(["restore", "--config", restoredConfig, "--from", backup])
        #expect(restore.status == 0, "\(restore.output)")
        #expect(restore.output.contains("40 leads"))
        #expect(try await Self.leadIDs(restoredConfig) == leads)
        let restored = try await DaemonProcess(config: restoredConfig)
        for (session, number) in before {
            let again = await restored.post("/v1/sessions", #"{"site":"acme","session_id":"\#(session)","visitor_id":"vis_\#(session)"}"#)
            #expect(again?.body["number"] as? String == number, "session \(session)")
        }

        // Never under a running daemon; once it stops, the database it replaces is kept.
        let refused = try await Self.command(["restore", "--config", restoredConfig, "--from", backup])
        #expect(refused.status != 0)
        #expect(refused.output.contains("another calltrackd runs on"), "\(refused.output)")
        #expect(await restored.terminate() == 0)
        let again = try await Self.command(["restore", "--config", restoredConfig, "--from", backup])
        #expect(again.status == 0, "\(again.output)")
        #expect(again.output.contains("the database it replaces is kept as"))
    }

    @Test("a backup never overwrites a file, and a damaged file is never restored")
    func refusals() async throws {
        let dir = TemporaryDirectory("backup-refusals")
        defer { dir.remove() }
        let config = Self.config(in: dir, data: "data", amiPort: nil)
        let daemon = try await DaemonProcess(config: config)
        _ = await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"sess_one"}"#)
        let existing = dir.file("exists.backup")
        try "keep me".write(toFile: existing, atomically: true, encoding: .utf8)
        let overwrite = try await Self.command(["backup", "--config", config, "--to", existing])
        #expect(overwrite.status != 0)
        #expect(try String(contentsOfFile: existing, encoding: .utf8) == "keep me")
        #expect(await daemon.terminate() == 0)

        let damaged = dir.file("damaged.backup")
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: damaged))
        let restore = try await Self.command(["restore", "--config", config, "--from", damaged])
        #expect(restore.status != 0)
        #expect(!FileManager.default.fileExists(atPath: dir.file("data") + "/state.sqlite.before-restore"), "nothing moved aside for a refused restore")
        let restarted = try await DaemonProcess(config: config)
        #expect(await restarted.post("/v1/sessions", #"{"site":"acme","session_id":"sess_one"}"#)?.status == 200)
        _ = await restarted.terminate()
    }
}
