import CallTrackCore
import Destinations

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

/// A webhook endpoint's address: the destinations' URL rule (HTTPS, plain HTTP only to loopback).
public typealias WebhookURL = DestinationURL
public typealias WebhookURLProblem = DestinationURLProblem
