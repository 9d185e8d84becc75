/// An IPv4 or IPv6 address, parsed from the text peers and proxies send.
///
/// ```
/// IPAddress("203.0.113.7")          -> 4 bytes
/// IPAddress("2001:DB8::1%eth0")     -> 16 bytes, the zone dropped; description "2001:db8::1"
/// IPAddress("::ffff:203.0.113.7")   -> 4 bytes: a mapped IPv4 address is that IPv4 address
/// IPAddress("203.0.113.7:8080")     -> nil (a port is the caller's to strip)
/// ```
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6.
    public let bytes: [UInt8]

    public var isIPv4: Bool { bytes.count == 4 }

    public init?(_ text: some StringProtocol) {
        var utf8 = Array(text.utf8)
        if let zone = utf8.firstIndex(of: UInt8(ascii: "%")) { utf8 = Array(utf8[..<zone]) }
        if utf8.contains(UInt8(ascii: ":")) {
            guard let bytes = Self.ipv6(utf8) else { return nil }
            let mappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]
            self.bytes = Array(bytes.prefix(12)) == mappedPrefix ? Array(bytes.suffix(4)) : bytes
        } else {
            guard let bytes = Self.ipv4(utf8) else { return nil }
            self.bytes = bytes
        }
    }

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Dotted IPv4, or IPv6 in RFC 5952 form (lower case, the longest run of zero groups as `::`).
    public var description: String {
        if isIPv4 { return bytes.map(String.init).joined(separator: ".") }
        let groups = stride(from: 0, to: 16, by: 2).map { Int(bytes[$0]) << 8 | Int(bytes[$0 + 1]) }
        return Self.ipv6Text(groups)
    }

    /// Eight 16-bit groups as RFC 5952 text.
    static func ipv6Text(_ groups: [Int]) -> String {
        var best = (start: -1, length: 0)
        var index = 0
        while index < groups.count {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < groups.count, groups[end] == 0 { end += 1 }
            if end - index > best.length, end - index >= 2 { best = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.start >= 0 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }

    private static func ipv4(_ utf8: some Collection<UInt8>) -> [UInt8]? {
        let labels = utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard labels.count == 4 else { return nil }
        var octets: [UInt8] = []
        for label in labels {
            guard (1...3).contains(label.count), label.allSatisfy({ (48...57).contains($0) }) else { return nil }
            let value = label.reduce(0) { $0 * 10 + Int($1 - 48) }
            guard value <= 255 else { return nil }
            octets.append(UInt8(value))
        }
        return octets
    }

    private static func ipv6(_ utf8: [UInt8]) -> [UInt8]? {
        var address = utf8[...]
        var tailIPv4: [UInt8] = []
        if address.contains(UInt8(ascii: ".")) {  // "::ffff:1.2.3.4": the last two groups written as IPv4
            guard let colon = address.lastIndex(of: UInt8(ascii: ":")), let v4 = ipv4(address[(colon + 1)...]) else { return nil }
            tailIPv4 = v4
            address = address[...colon]
            if address.last == UInt8(ascii: ":"), address.dropLast().last != UInt8(ascii: ":") { address = address.dropLast() }
        }
        let wanted = tailIPv4.isEmpty ? 8 : 6
        var halves = [address]
        if let gap = firstGap(in: address) {
            halves = [address[..<gap], address[(gap + 2)...]]
            guard firstGap(in: halves[1]) == nil else { return nil }  // "::" at most once
        }
        func groups(_ part: ArraySlice<UInt8>) -> [Int]? {
            if part.isEmpty { return [] }
            var values: [Int] = []
            for group in part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(isHexDigit),
                      let value = Int(String(decoding: group, as: UTF8.self), radix: 16) else { return nil }
                values.append(value)
            }
            return values
        }
        guard let head = groups(halves[0]) else { return nil }
        var all = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count < wanted else { return nil }
            all += Array(repeating: 0, count: wanted - head.count - tail.count) + tail
        }
        guard all.count == wanted else { return nil }
        return all.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } + tailIPv4
    }

    private static func firstGap(in bytes: ArraySlice<UInt8>) -> Int? {
        var index = bytes.startIndex
        while index + 1 < bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":"), bytes[index + 1] == UInt8(ascii: ":") { return index }
            index += 1
        }
        return nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }
}

/// An address range written as CIDR (`10.0.0.0/8`, `2001:db8::/32`) or one address (`127.0.0.1`).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    public let prefixLength: Int

    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return nil }
        let maximum = address.bytes.count * 8
        var length = maximum
        if parts.count == 2 {
            guard let written = Int(parts[1]), (0...maximum).contains(written) else { return nil }
            // A mapped IPv4 range (::ffff:10.0.0.0/104) counts its prefix in IPv6 bits.
            length = address.isIPv4 && parts[0].contains(":") ? written - 96 : written
            guard length >= 0 else { return nil }
        }
        self.init(address: address, prefixLength: length)
    }

    public init(address: IPAddress, prefixLength: Int) {
        self.prefixLength = prefixLength
        // The host bits are cleared, so `10.1.2.3/8` and `10.0.0.0/8` are the same network.
        var bytes = address.bytes
        for index in bytes.indices {
            let bitsKept = min(8, max(0, prefixLength - index * 8))
            bytes[index] &= bitsKept == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - bitsKept))
        }
        self.address = IPAddress(bytes: bytes)
    }

    public func contains(_ other: IPAddress) -> Bool {
        guard other.bytes.count == address.bytes.count else { return false }
        return IPNetwork(address: other, prefixLength: prefixLength).address == address
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
