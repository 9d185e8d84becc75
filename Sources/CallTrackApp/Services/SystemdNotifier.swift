import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// systemd's notification protocol (sd_notify(3)): newline-separated `KEY=value` datagrams to the socket named
/// by `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace). Without the variable (not run by systemd
/// with `Type=notify`) it does nothing. A datagram is sent without waiting: a full or missing socket drops it.
public struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// How often systemd wants `WATCHDOG=1` (`WatchdogSec=`), when it watches this process.
    public let watchdogInterval: Duration?

    public init(environment: [String: String]) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        let forUs = environment["WATCHDOG_PID"].map { $0 == "\(getpid())" } ?? true
        watchdogInterval = environment["WATCHDOG_USEC"].flatMap(Int64.init).flatMap { forUs && $0 > 0 ? .microseconds($0) : nil }
    }

    public var isActive: Bool { socketPath != nil }

    /// Sends `fields` as one datagram; false when it could not be sent.
    @discardableResult
    public func send(_ fields: [String]) -> Bool {
        guard let socketPath else { return false }
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var path = Array(socketPath.utf8)
        if path.first == UInt8(ascii: "@") { path[0] = 0 }  // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { bytes in
            for (index, byte) in path.enumerated() { bytes[index] = byte }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        let message = Array((fields.joined(separator: "\n") + "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sockaddrPointer in
                message.withUnsafeBytes { sendto(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sockaddrPointer, length) }
            }
        }
        return sent == message.count
    }
}
