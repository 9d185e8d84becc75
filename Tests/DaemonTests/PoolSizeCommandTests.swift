import Foundation
import Testing
import TestSupport

/// `calltrackd pool-size`: the what-if a person asks before buying numbers.
@Suite("calltrackd pool-size")
struct PoolSizeCommandTests {
    @Test("70 erlangs at 1%: the pool size Erlang B gives, with the exhaustion at that size and one number fewer")
    func text() async throws {
        let result = try await DaemonProcess.run(["pool-size", "--load", "70", "--target", "0.01"])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("needs 85 numbers for exhaustion under 1%"), "\(result.output)")
        #expect(result.output.contains("84 numbers:"))
    }

    @Test("--json gives pool_size and both exhaustion figures")
    func json() async throws {
        let result = try await DaemonProcess.run(["pool-size", "--load", "10", "--target", "0.001", "--json"])
        #expect(result.status == 0, "\(result.output)")
        let answer = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(answer["pool_size"] as? Int == 21)
        #expect((answer["exhaustion"] as? Double ?? 1) <= 0.001)
        #expect((answer["exhaustion_one_fewer"] as? Double ?? 0) > 0.001)
    }

    @Test("a target that is not a probability is refused with what to write", arguments: ["0", "1", "5", "abc"])
    func badTarget(target: String) async throws {
        let result = try await DaemonProcess.run(["pool-size", "--load", "10", "--target", target])
        #expect(result.status != 0)
        #expect(result.output.contains("--target") || result.output.contains("target"), "\(result.output)")
    }
}
