#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Plain TCP connections to a local port, held open as a slow or silent client holds them (no HTTP
/// client library would): for tests of what the daemon does with clients that never finish a request.
public final class RawConnections: Sendable {
    /// The sockets' descriptors; the connections close when this is deinitialised.
    public let descriptors: [Int32]

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Opens `count` connections to 127.0.0.1:`port`, each sending `greeting` (a partial request head, say).
    public init(count: Int, port: Int, greeting: [UInt8] = []) throws {
        var opened: [Int32] = []
        for index in 0..<count {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else {
                opened.forEach { _ = close($0) }
                throw Failure(description: "socket() failed at connection \(index): errno \(errno)")
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                _ = close(fd)
                opened.forEach { _ = close($0) }
                throw Failure(description: "connect() failed at connection \(index): errno \(errno)")
            }
            if !greeting.isEmpty { _ = greeting.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
            opened.append(fd)
        }
        descriptors = opened
    }

    deinit {
        for fd in descriptors { _ = close(fd) }
    }

    /// Sends `bytes` on every connection still open (a slowloris client's next byte); errors are ignored.
    public func trickle(_ bytes: [UInt8]) {
        for fd in descriptors {
            _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
    }

    /// How many connections the server has closed (end of stream or reset), waiting until all are or
    /// `limit` has passed. Data the server sent before closing is read and dropped. The wait blocks in
    /// `poll`, so it runs on a thread of its own, never on one of the few threads that run tasks.
    public func closedByServer(within limit: Duration) async -> Int {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.pollUntilClosed(within: limit)) }
        }
    }

    private func pollUntilClosed(within limit: Duration) -> Int {
        var open = Set(descriptors)
        var closed = 0
        let deadline = ContinuousClock.now + limit
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !open.isEmpty, ContinuousClock.now < deadline {
            var polls = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let ready = poll(&polls, nfds_t(polls.count), 100)
            guard ready > 0 else { continue }
            for entry in polls where entry.revents != 0 {
                let read = buffer.withUnsafeMutableBytes { recv(entry.fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    open.remove(entry.fd)
                    closed += 1
                }
            }
        }
        return closed
    }
}
