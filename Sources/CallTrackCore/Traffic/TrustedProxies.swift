/// Who the client is when calltrackd sits behind a proxy (nginx, a load balancer) that names it in
/// `Forwarded` or `X-Forwarded-For`.
///
/// The socket peer is the client unless it is a trusted proxy. From a trusted peer, the hops the
/// headers list are read from the right, and the first one that is not itself trusted is the client,
/// as nginx's realip module does with `real_ip_recursive on`:
/// ```
/// trusted [10.0.0.0/8], peer 10.0.0.2, X-Forwarded-For "198.51.100.9, 203.0.113.7, 10.0.0.1"  -> 203.0.113.7
/// trusted [10.0.0.0/8], peer 192.0.2.1, X-Forwarded-For "203.0.113.7"                        -> 192.0.2.1
/// ```
/// A header from an untrusted peer is never read: anyone can write one. `Forwarded` (RFC 7239) wins
/// over `X-Forwarded-For` when a trusted peer sends both. A hop that is not an address (`unknown`,
/// an obfuscated `_name`) ends the walk at the last trusted hop.
public struct TrustedProxies: Sendable, Equatable {
    public let networks: [IPNetwork]

    public init(_ networks: [IPNetwork] = []) {
        self.networks = networks
    }

    public func trusts(_ address: IPAddress) -> Bool {
        networks.contains { $0.contains(address) }
    }

    /// The client's address; nil only when the peer's is unknown.
    public func client(peer: IPAddress?, forwarded: [String], xForwardedFor: [String]) -> IPAddress? {
        guard let peer, !networks.isEmpty, trusts(peer) else { return peer }
        let hops = forwarded.isEmpty ? Self.xForwardedForHops(xForwardedFor) : Self.forwardedHops(forwarded)
        var nearest = peer
        for hop in hops.reversed() {
            guard let address = hop else { break }
            if !trusts(address) { return address }
            nearest = address
        }
        return nearest
    }

    /// `X-Forwarded-For: 203.0.113.7, [2001:db8::1]:443` in order, left (client) to right; nil for a hop
    /// that is not an address.
    static func xForwardedForHops(_ values: [String]) -> [IPAddress?] {
        values.flatMap { $0.split(separator: ",") }.map { address(fromHop: $0) }
    }

    /// The `for=` of every element of `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`.
    static func forwardedHops(_ values: [String]) -> [IPAddress?] {
        values.flatMap { $0.split(separator: ",") }.map { element in
            for pair in element.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].trimmingSpaces.lowercased() == "for" else { continue }
                return address(fromHop: parts[1])
            }
            return nil
        }
    }

    /// `203.0.113.7`, `203.0.113.7:8080`, `"[2001:db8::1]:4711"`, `2001:db8::1` → the address.
    static func address(fromHop raw: Substring) -> IPAddress? {
        var hop = raw.trimmingSpaces
        if hop.hasPrefix("\""), hop.hasSuffix("\""), hop.count >= 2 { hop = hop.dropFirst().dropLast() }
        if hop.hasPrefix("[") {
            guard let close = hop.firstIndex(of: "]") else { return nil }
            return IPAddress(hop[hop.index(after: hop.startIndex)..<close])
        }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { hop = hop[..<colon] }  // IPv4 with a port
        return IPAddress(hop)
    }
}

