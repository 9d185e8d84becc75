/// IP addresses are stored truncated to their network (SPEC §Privacy): an IPv4 address to its /24, an
/// IPv6 one to its /48 in canonical form; anything else is stored as "?".
public enum ClientNetwork {
    public static func truncate(_ ip: String) -> String {
        let bytes = Array(ip.utf8)
        return (bytes.contains(UInt8(ascii: ":")) ? ipv6Network(bytes) : ipv4Network(bytes)) ?? "?"
    }

    /// "203.0.113.77" → "203.0.113.0/24".
    private static func ipv4Network(_ bytes: [UInt8]) -> String? {
        let labels = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count == 4 else { return nil }
        var octets: [Int] = []
        for label in labels {
            guard (1...3).contains(label.count), label.allSatisfy({ (48...57).contains($0) }) else { return nil }
            let value = label.reduce(0) { $0 * 10 + Int($1 - 48) }
            guard value <= 255 else { return nil }
            octets.append(value)
        }
        return "\(octets[0]).\(octets[1]).\(octets[2]).0/24"
    }

    /// "2001:db8::1" → "2001:db8::/48" (RFC 5952 form); a mapped IPv4 address is treated as IPv4.
    private static func ipv6Network(_ bytes: [UInt8]) -> String? {
        var address = bytes
        if let zone = address.firstIndex(of: UInt8(ascii: "%")) { address = Array(address[..<zone]) }
        if address.contains(UInt8(ascii: ".")), let colon = address.lastIndex(of: UInt8(ascii: ":")) {
            return ipv4Network(Array(address[(colon + 1)...]))
        }
        var halves = [address]
        if let gap = Bytes.firstIndex(of: Self.gap, in: address) {
            halves = [Array(address[..<gap]), Array(address[(gap + 2)...])]
            guard Bytes.firstIndex(of: Self.gap, in: halves[1]) == nil else { return nil }  // "::" at most once
        }
        func groups(_ part: [UInt8]) -> [Int]? {
            if part.isEmpty { return [] }
            var values: [Int] = []
            for group in part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy({ isHexDigit($0) }),
                      let value = Int(String(decoding: group, as: UTF8.self), radix: 16) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            all += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard all.count == 8 else { return nil }
        // The network's first three groups, then zeros: "::" replaces the run of zeros that ends it.
        var kept = Array(all.prefix(3))
        while kept.last == 0 { kept.removeLast() }
        return kept.map { String($0, radix: 16) }.joined(separator: ":") + "::/48"
    }

    private static let gap = Array("::".utf8)

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
}
