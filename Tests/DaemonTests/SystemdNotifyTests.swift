import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
import TestSupport

/// The daemon under systemd's `Type=notify`, with the socket systemd would give it: READY=1 once it serves,
/// STATUS= lines, WATCHDOG=1 at half the watchdog time, STOPPING=1 when told to stop.
@Suite("systemd notifications")
struct SystemdNotifyTests {
    /// A datagram socket bound at a path, as systemd's: each datagram read on a thread of its own.
    final class NotifySocket: Sendable {
        let path: String
        let descriptor: Int32
        let messages: AsyncStream<String>

        init(path: String) throws {
            self.path = path
            let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            self.descriptor = descriptor
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { bytes in
                for (index, byte) in path.utf8.enumerated() { bytes[index] = byte }
            }
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
            let (stream, continuation) = AsyncStream.makeStream(of: String.self)
            messages = stream
            Thread.detachNewThread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = recv(descriptor, &buffer, buffer.count, 0)
                    if count <= 0 { continuation.finish(); return }
                    continuation.yield(String(decoding: buffer[0..<count], as: UTF8.self))
                }
            }
        }

        func close() {
            shutdown(descriptor, Int32(SHUT_RDWR))
            Glibc.close(descriptor)
        }
    }

    @Test("READY=1 once the port listens, STATUS with live leases and the outbox depth, WATCHDOG=1 again and again, STOPPING=1 at SIGTERM")
    func notifications() async throws {
        let dir = TemporaryDirectory("notify")
        defer { dir.remove() }
        let socket = try NotifySocket(path: dir.file("notify.sock"))
        defer { socket.close() }
        let config = dir.file("calltrackd.yaml")
        try """
            data: { dir: "\(dir.file("data"))" }
            sites: [acme]
            site:
              acme: { default_number: "+74950000000", pools: [main] }
            pool:
              main: { numbers: ["+74950000001", "+74950000002"] }
            """.write(toFile: config, atomically: true, encoding: .utf8)
        // Watchdog every 0.4 s: a beat every 0.2 s.
        let daemon = try await DaemonProcess(config: config, environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "400000"])
        // One pass over the datagrams, acting as they come: lease a number once ready, stop after the beats.
        let messages = socket.messages
        let (received, exitStatus) = try await within(.seconds(60), waitingFor: "READY=1, five WATCHDOG=1 with a lease in STATUS, then STOPPING=1") {
            var received: [String] = []
            var beats = 0, sawLease = false, exitStatus: Int32?
            for await message in messages {
                received.append(message)
                if message.contains("READY=1\n") {
                    #expect(await daemon.post("/v1/sessions", #"{"site":"acme","session_id":"sess_notify01"}"#)?.status == 200)
                }
                if message.contains("WATCHDOG=1\n") { beats += 1 }
                sawLease = sawLease || message.contains("STATUS=serving: 1 live leases, outbox depth 0")
                if exitStatus == nil, beats >= 5, sawLease { exitStatus = await daemon.terminate() }
                if message.contains("STOPPING=1\n") { break }
            }
            return (received, exitStatus)
        }
        #expect(exitStatus == 0)
        #expect(received.last?.contains("STOPPING=1") == true, "\(received)")
        #expect(received.first?.hasPrefix("READY=1") == true, "\(received)")
    }
}
