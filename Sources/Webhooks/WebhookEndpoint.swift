import CallTrackCore

/// One webhook endpoint as configured (`webhook.<id>.*`, listed by the sites whose leads it gets): where to post,
/// the secret to sign with, and how hard to try.
public struct WebhookEndpoint: Sendable, Hashable {
    /// The config id (`webhook.<id>`): names the endpoint's cursor (`webhook:<id>`) and its metrics.
    public var id: String
    /// A label for people (`webhook.<id>.name`); the id when not set.
    public var name: String
    /// The sites whose lead changes it receives (those that list it in `site.<id>.webhooks`).
    public var sites: Set<String>
    public var url: WebhookURL
    /// The HMAC key, as its UTF-8 bytes.
    public var secret: [UInt8]
    /// A PEM file of certificate authorities trusted for this endpoint instead of the system's (a private CA, a
    /// self-signed receiver); nil: the system's trust store.
    public var caFile: String?
    /// Consecutive failed attempts of one entry after which it is set aside as a dead letter.
    public var deadLetterAfter = 10
    public var retry = RetrySchedule()
    /// One attempt's deadline: connection, request and answer.
    public var timeout: Duration = .seconds(10)
    /// Requests in flight at once, each for a different lead (a lead's changes go one after the other). 1 by
    /// default, the plainest order; on loopback 8 drained 1.1–1.5× faster and changed no latency figure
    /// (docs/benchmarks.md). Raise it for a distant receiver whose round trip limits the rate.
    public var concurrency = WebhookEndpoint.defaultConcurrency
    public static let defaultConcurrency = 1

    public init(id: String, name: String? = nil, sites: Set<String>, url: WebhookURL, secret: [UInt8]) {
        self.id = id
        self.name = name ?? id
        self.sites = sites
        self.url = url
        self.secret = secret
    }

    /// The name of its cursor in the state database and of its `destination` metric label.
    public var destinationName: String { Self.destinationName(id) }

    public static func destinationName(_ id: String) -> String { "webhook:\(id)" }
}

/// A webhook endpoint's address: HTTPS, or plain HTTP only to this machine (a receiver on loopback), so a lead's
/// personal data never crosses a network unencrypted.
public struct WebhookURL: Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var isHTTPS: Bool
    public var host: String

    /// Parses `text`; the error says what to write.
    public init(_ text: String) throws(WebhookURLProblem) {
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
            throw WebhookURLProblem("'\(text)' is not an http(s) URL: write e.g. https://crm.example.com/hooks/calltrackd")
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else {
            throw WebhookURLProblem("'\(text)' carries credentials: put the secret in webhook.<id>.secret, not in the URL")
        }
        let host: Substring
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw WebhookURLProblem("'\(text)' has an unclosed IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let tail = authority[authority.index(after: close)...]
            guard tail.isEmpty || (tail.hasPrefix(":") && Self.isPort(tail.dropFirst())) else {
                throw WebhookURLProblem("'\(text)' has a bad port: write a number from 1 to 65535 after the host")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            host = parts.first ?? ""
            guard parts.count <= 2, parts.count == 1 || Self.isPort(parts[1]) else {
                throw WebhookURLProblem("'\(text)' has a bad port: write a number from 1 to 65535 after the host")
            }
        }
        guard !host.isEmpty else { throw WebhookURLProblem("'\(text)' names no host: write e.g. https://crm.example.com/hooks/calltrackd") }
        self.host = host.lowercased()
        self.text = trimmed
        guard isHTTPS || Self.isLoopback(self.host) else {
            throw WebhookURLProblem("'\(text)' is plain HTTP to another machine: use https:// (plain http:// only to 127.0.0.1, ::1 or localhost)")
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

/// Why a webhook URL was refused, and what to write instead.
public struct WebhookURLProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
