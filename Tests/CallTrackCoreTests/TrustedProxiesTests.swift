import CallTrackCore
import Testing

/// Behind nginx or a load balancer, the client is the first hop, from the right, that is not a
/// trusted proxy; from anyone else the headers are ignored.
@Suite("Clients behind trusted proxies")
struct TrustedProxiesTests {
    let lan = TrustedProxies([IPNetwork("10.0.0.0/8")!, IPNetwork("127.0.0.1")!, IPNetwork("fd00::/8")!])

    func client(_ proxies: TrustedProxies, peer: String, forwarded: [String] = [], xff: [String] = []) -> String? {
        proxies.client(peer: IPAddress(peer), forwarded: forwarded, xForwardedFor: xff)?.description
    }

    @Test("addresses: IPv4, IPv6 in any spelling, mapped IPv4, zones; not ports or junk")
    func addresses() {
        #expect(IPAddress("203.0.113.7")?.description == "203.0.113.7")
        #expect(IPAddress("2001:DB8:0:0:0:0:0:1")?.description == "2001:db8::1")
        #expect(IPAddress("2001:db8:0:1:0:0:0:0")?.description == "2001:db8:0:1::")
        #expect(IPAddress("::ffff:203.0.113.7")?.description == "203.0.113.7")
        #expect(IPAddress("fe80::1%eth0")?.description == "fe80::1")
        #expect(IPAddress("::")?.description == "::")
        for junk in ["203.0.113.7:80", "256.1.1.1", "1.2.3", "1::2::3", "unknown", "", "1:2:3:4:5:6:7:8:9"] {
            #expect(IPAddress(junk) == nil, "\(junk)")
        }
    }

    @Test("networks: CIDR and single addresses, host bits ignored, families kept apart")
    func networks() throws {
        let ten = try #require(IPNetwork("10.1.2.3/8"))
        #expect(ten.description == "10.0.0.0/8")
        #expect(ten.contains(IPAddress("10.255.0.1")!))
        #expect(!ten.contains(IPAddress("11.0.0.1")!))
        #expect(!ten.contains(IPAddress("::a00:1")!), "an IPv6 address is not in an IPv4 network")
        #expect(IPNetwork("127.0.0.1")!.contains(IPAddress("::ffff:127.0.0.1")!), "a mapped address is its IPv4 address")
        #expect(IPNetwork("2001:db8::/32")!.contains(IPAddress("2001:db8:ffff::1")!))
        #expect(IPNetwork("0.0.0.0/0")!.contains(IPAddress("198.51.100.1")!))
        for junk in ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "proxy.lan", "::/129"] {
            #expect(IPNetwork(junk) == nil, "\(junk)")
        }
    }

    @Test("the rightmost untrusted hop of X-Forwarded-For, read only from a trusted peer")
    func xForwardedFor() {
        #expect(client(lan, peer: "10.0.0.2", xff: ["198.51.100.9, 203.0.113.7, 10.0.0.1"]) == "203.0.113.7")
        #expect(client(lan, peer: "10.0.0.2", xff: ["198.51.100.9", "203.0.113.7"]) == "203.0.113.7", "repeated headers are one list")
        #expect(client(lan, peer: "10.0.0.2", xff: ["203.0.113.7:51234"]) == "203.0.113.7", "a port is dropped")
        #expect(client(lan, peer: "10.0.0.2", xff: ["[2001:db8::5]:443"]) == "2001:db8::5")
        #expect(client(lan, peer: "192.0.2.1", xff: ["203.0.113.7"]) == "192.0.2.1", "an untrusted peer's header is ignored")
        #expect(client(TrustedProxies(), peer: "127.0.0.1", xff: ["203.0.113.7"]) == "127.0.0.1", "no proxies configured: never read")
        #expect(client(lan, peer: "10.0.0.2") == "10.0.0.2", "no header: the proxy itself")
        #expect(client(lan, peer: "10.0.0.2", xff: ["10.0.0.9, 10.0.0.1"]) == "10.0.0.9", "all trusted: the leftmost")
        #expect(client(lan, peer: "10.0.0.2", xff: ["203.0.113.7, garbage, 10.0.0.1"]) == "10.0.0.1", "a hop that is no address ends the walk")
    }

    @Test("Forwarded (RFC 7239) wins over X-Forwarded-For; quoted IPv6 with ports; other parameters ignored")
    func forwarded() {
        #expect(client(lan, peer: "127.0.0.1", forwarded: [#"for=192.0.2.60;proto=https;by=10.0.0.1, For="[2001:db8:cafe::17]:4711""#]) == "2001:db8:cafe::17")
        #expect(client(lan, peer: "127.0.0.1", forwarded: ["for=198.51.100.3"], xff: ["203.0.113.7"]) == "198.51.100.3")
        #expect(client(lan, peer: "127.0.0.1", forwarded: ["for=unknown"]) == "127.0.0.1", "an unknown client: the nearest proxy")
        #expect(client(lan, peer: "127.0.0.1", forwarded: ["for=_hidden, for=10.0.0.3"]) == "10.0.0.3")
    }

    @Test("stored networks come from the same parser: mapped IPv4 is IPv4, zones are dropped")
    func storedNetwork() {
        #expect(ClientNetwork.truncate(IPAddress("::ffff:203.0.113.77")!) == "203.0.113.0/24")
        #expect(ClientNetwork.truncate("2001:db8:85a3:8d3::1") == "2001:db8:85a3::/48")
    }
}
