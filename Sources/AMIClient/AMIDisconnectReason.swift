#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Why the connection to Asterisk ended or could not be made, in words a PBX engineer acts on.
///
/// ```
/// IOError(ECONNRESET)                  -> "the connection was reset (Asterisk restarted, or a firewall dropped it)"
/// NIOConnectionError[ECONNREFUSED]     -> "connection refused: nothing listens on 10.0.0.5:5038 …"
/// ChannelError.connectTimeout          -> "no answer from 10.0.0.5:5038 within ami.connect_timeout"
/// ```
/// Library text (with its errno and unbalanced parentheses) never reaches the log as the reason.
enum AMIDisconnectReason {
    static func describe(_ error: any Error, endpoint: String) -> String {
        if let connection = error as? NIOConnectionError {
            if connection.dnsAError != nil || connection.dnsAAAAError != nil {
                return "cannot resolve \(connection.host): check ami.host"
            }
            guard let first = connection.connectionErrors.first else {
                return "no address found for \(connection.host): check ami.host"
            }
            return describe(first.error, endpoint: endpoint)
        }
        if let channel = error as? ChannelError {
            switch channel {
            case .connectTimeout: return "no answer from \(endpoint) within ami.connect_timeout: is the host up, is a firewall dropping packets?"
            case .eof, .alreadyClosed, .ioOnClosedChannel, .outputClosed: return "the connection closed"
            default: return "connection error (\(channel))"
            }
        }
        if let io = error as? IOError {
            return describe(errno: io.errnoCode, endpoint: endpoint)
        }
        return "connection error (\(String(describing: type(of: error))))"
    }

    static func describe(errno code: CInt, endpoint: String) -> String {
        switch code {
        case ECONNREFUSED:
            "connection refused: nothing listens on \(endpoint) (is Asterisk running, is the manager enabled with this port in manager.conf?)"
        case ECONNRESET:
            "the connection was reset (Asterisk restarted or stopped, or a firewall dropped it)"
        case EPIPE:
            "the connection broke while sending to Asterisk"
        case ETIMEDOUT:
            "the connection timed out (no answer from \(endpoint))"
        case EHOSTUNREACH, ENETUNREACH:
            "\(endpoint) is unreachable from this host: check ami.host and the network"
        default:
            "socket error \(code) (\(String(cString: strerror(code))))"
        }
    }
}
