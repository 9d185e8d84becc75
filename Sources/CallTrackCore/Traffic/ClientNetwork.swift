/// IP addresses are stored truncated to their network (SPEC §Privacy): an IPv4 address to its /24, an
/// IPv6 one to its /48 in canonical form; anything else is stored as "?".
///
/// ```
/// "203.0.113.77"          -> "203.0.113.0/24"
/// "2001:DB8:0:1::5"       -> "2001:db8::/48"
/// "::ffff:203.0.113.77"   -> "203.0.113.0/24"   (a mapped IPv4 address is IPv4)
/// ```
public enum ClientNetwork {
    public static func truncate(_ ip: String) -> String {
        IPAddress(ip).map(truncate) ?? "?"
    }

    public static func truncate(_ address: IPAddress) -> String {
        let bytes = address.bytes
        if address.isIPv4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24" }
        // The network's first three groups, then zeros: "::" replaces the run of zeros that ends it.
        var kept = stride(from: 0, to: 6, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        while kept.last == 0 { kept.removeLast() }
        return kept.map { String($0, radix: 16) }.joined(separator: ":") + "::/48"
    }
}
