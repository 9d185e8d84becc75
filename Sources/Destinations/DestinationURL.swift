/// Where a destination posts (a webhook endpoint, a GA4 collect endpoint): HTTPS, or plain HTTP only to this
/// machine (a receiver on loopback), so a lead's personal data and a destination's secrets never cross a network
/// unencrypted.
public struct DestinationURL: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var isHTTPS: Bool
    public var host: String

    /// Parses `text`; the error says what to write.
    public init(_ text: String) throws(DestinationURLProblem) {
        let trimmed = text.trimmingWhitespace
        let lower = trimmed.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            isHTTPS = true
            rest = trimmed.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            isHTTPS = false
            rest = trimmed.dropFirst(7)
        } else {
            throw DestinationURLProblem("'\(text)' is not an http(s) URL: write e.g. https://crm.example.com/hooks/calltrackd")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else {
            throw DestinationURLProblem("'\(text)' carries credentials: put secrets in their own config keys (e.g. webhook.<id>.secret), not in the URL")
        }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw DestinationURLProblem("'\(text)' has an unclosed IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let tail = authority[authority.index(after: close)...]
            guard tail.isEmpty || (tail.hasPrefix(":") && Self.isPort(tail.dropFirst())) else {
                throw DestinationURLProblem("'\(text)' has a bad port: write a number from 1 to 65535 after the host")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            host = parts.first ?? ""
            guard parts.count <= 2, parts.count == 1 || Self.isPort(parts[1]) else {
                throw DestinationURLProblem("'\(text)' has a bad port: write a number from 1 to 65535 after the host")
            }
        }
        guard !host.isEmpty else { throw DestinationURLProblem("'\(text)' names no host: write e.g. https://crm.example.com/hooks/calltrackd") }
        self.host = host.lowercased()
        self.text = trimmed
        guard isHTTPS || Self.isLoopback(self.host) else {
            throw DestinationURLProblem("'\(text)' is plain HTTP to another machine: use https:// (plain http:// only to 127.0.0.1, ::1 or localhost)")
        }
    }

    public var description: String { text }

    static func isPort(_ text: Substring) -> Bool {
        guard let port = Int(text) else { return false }
        return (1...65535).contains(port)
    }

    /// 127.0.0.0/8, ::1 and localhost.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}

/// Why a destination's URL was refused, and what to write instead.
public struct DestinationURLProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
