import CallTrackCore
import Foundation

/// `calltrackd route`: what the configured dealers would decide for a caller on a site at a time,
/// with nothing busy and a fresh round robin (a what-if: nothing is held, nothing is stored).
public struct RouteAnswer: Encodable, Sendable, Equatable {
    public let site: String
    public let caller: String?
    public let at: String
    public let dealer: String?
    public let rule: String
    public let targets: [String]
    public let failover: [String]
    /// The site's default route when no dealer is available.
    public let default_route: String?
    public let reason: String

    public struct Problem: Error, CustomStringConvertible {
        public let description: String
    }

    public init(routes: RoutingTable, sites: [String], site: String, caller: String?, at: String?, sticky: String?,
                country: Country, now: Timestamp = SystemClock().now()) throws(Problem) {
        guard sites.contains(site) else {
            throw Problem(description: "--site \(site) is not configured: write one of \(sites.joined(separator: ", "))")
        }
        var number: PhoneNumber?
        if let caller {
            do { number = try PhoneNumber.parse(caller, defaultCountry: country) } catch {
                throw Problem(description: "--caller \(caller) is not a phone number (\(error)); write e.g. +74951234567")
            }
        }
        let instant: Timestamp
        if let at {
            guard let parsed = Self.parseTime(at) else {
                throw Problem(description: "--at \(at) is not a time: write e.g. 2026-12-08T10:00+03:00 or 2026-12-08T07:00Z")
            }
            instant = parsed
        } else {
            instant = now
        }
        var roundRobin = RoundRobin(dealers: routes.book.dealers.count)
        let decision = routes.book.decide(RoutingRequest(site: site, caller: number, at: instant, stickyDealer: sticky),
                                          busy: [], roundRobin: &roundRobin)
        self.site = site
        self.caller = number?.e164
        self.at = instant.iso8601
        dealer = decision.dealer
        rule = decision.rule.rawValue
        targets = decision.targets
        failover = decision.failover
        default_route = decision.dealer == nil ? routes.defaultRoutes[site] : nil
        reason = decision.reason
    }

    public var text: String {
        var lines: [String] = []
        if let dealer {
            lines.append("dealer: \(dealer)")
            lines.append("dial: \(targets.joined(separator: " → "))")
            lines.append("failover: \(failover.isEmpty ? "none" : failover.joined(separator: ", "))")
        } else {
            lines.append("dealer: none")
            lines.append("dial: \(default_route.map { "\($0) (the site's default route)" } ?? "nothing: no default_route for this site, the dialplan's fallback")")
        }
        lines.append("why: \(reason)")
        return lines.joined(separator: "\n")
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    /// `2026-12-08T10:00+03:00`, with optional seconds, `Z` or `±HH:MM`/`±HHMM`.
    static func parseTime(_ text: String) -> Timestamp? {
        let parts = text.split(separator: "T", maxSplits: 1)
        guard parts.count == 2, let date = LocalDate(String(parts[0])) else { return nil }
        var clock = parts[1]
        var offset = 0
        if clock.hasSuffix("Z") || clock.hasSuffix("z") {
            clock = clock.dropLast()
        } else if let sign = clock.lastIndex(where: { $0 == "+" || $0 == "-" }) {
            let zone = clock[clock.index(after: sign)...].replacing(":", with: "")
            guard zone.count == 4, let hours = Int(zone.prefix(2)), let minutes = Int(zone.suffix(2)), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3600 + minutes * 60) * (clock[sign] == "-" ? -1 : 1)
            clock = clock[..<sign]
        } else {
            return nil
        }
        let fields = clock.split(separator: ":")
        guard (2...3).contains(fields.count), let h = Int(fields[0]), let m = Int(fields[1]), (0...23).contains(h), (0...59).contains(m) else { return nil }
        let s = fields.count == 3 ? Int(fields[2]) : 0
        guard let s, (0...59).contains(s) else { return nil }
        let seconds = date.daysSinceEpoch * 86_400 + Int64(h * 3600 + m * 60 + s) - Int64(offset)
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000)
    }
}
