import Foundation
import Testing
import TestSupport

/// `calltrackd forget`: refused while `serve` holds the data folder (pointing to the admin route), done once it stopped.
@Suite("calltrackd forget")
struct ForgetCommandTests {
    @Test("while serve runs, forget refuses and names the route; stopped, it forgets and says what; then nothing is left to forget")
    func refusedWhileServingThenForgets() async throws {
        let dir = TemporaryDirectory("forget-cli")
        defer { dir.remove() }
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            http: { port: 0 }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: ["+74950000001"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        let daemon = try await DaemonProcess(config: config)
        let visit = await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"s_cli0000001","visitor_id":"v_cli0000001","ga_client_id":"GA1.1.42.43"}"#)
        #expect(visit?.status == 200)

        let refused = try await runProgram([DaemonProcess.executable.path, "forget", "--config", config, "--visitor", "v_cli0000001"])
        #expect(refused.status != 0)
        #expect(refused.output.contains("DELETE /v1/admin/people/v_cli0000001"), "\(refused.output)")
        #expect(await daemon.terminate() == 0)

        let forgot = try await runProgram([DaemonProcess.executable.path, "forget", "--config", config, "--visitor", "v_cli0000001"])
        #expect(forgot.status == 0, "\(forgot.output)")
        #expect(forgot.output.contains("forgot visitor v_cli0000001: 1 visitor id(s), 1 visit(s)"), "\(forgot.output)")
        let again = try await runProgram([DaemonProcess.executable.path, "forget", "--config", config, "--visitor", "v_cli0000001"])
        #expect(again.status != 0)
        #expect(again.output.contains("nothing is known of visitor v_cli0000001"), "\(again.output)")
        let both = try await runProgram([DaemonProcess.executable.path, "forget", "--config", config, "--visitor", "v_cli0000001", "--phone", "+79161234567"])
        #expect(both.status != 0)
        #expect(both.output.contains("exactly one of --visitor or --phone"), "\(both.output)")
    }
}
