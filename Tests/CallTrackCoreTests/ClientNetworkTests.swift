import CallTrackCore
import Testing

/// SPEC §Privacy: a session stores its client's network, never the address.
@Suite("Client networks as stored")
struct ClientNetworkTests {
    @Test("IPv4 keeps its /24, IPv6 its /48, anything else is stored as '?'")
    func truncation() {
        #expect(ClientNetwork.truncate("203.0.113.77") == "203.0.113.0/24")
        #expect(ClientNetwork.truncate("2001:db8:85a3:8d3:1319:8a2e:370:7348") == "2001:db8:85a3::/48")
        #expect(ClientNetwork.truncate("2001:db8::1") == "2001:db8::/48")
        #expect(ClientNetwork.truncate("2001:DB8:0001::") == "2001:db8:1::/48")
        #expect(ClientNetwork.truncate("2001::") == "2001::/48")
        #expect(ClientNetwork.truncate("::1") == "::/48")
        #expect(ClientNetwork.truncate("fe80::1%eth0") == "fe80::/48")
        #expect(ClientNetwork.truncate("::ffff:203.0.113.77") == "203.0.113.0/24")
        #expect(ClientNetwork.truncate("10.0.0") == "?")
        #expect(ClientNetwork.truncate("1..2.3") == "?")
        #expect(ClientNetwork.truncate("300.1.2.3") == "?")
        #expect(ClientNetwork.truncate("1:2:3:4:5:6:7:8:9") == "?")
        #expect(ClientNetwork.truncate("1::2::3") == "?")
        #expect(ClientNetwork.truncate("12345::") == "?")
        #expect(ClientNetwork.truncate("+1::") == "?")
        #expect(ClientNetwork.truncate("not an ip") == "?")
    }
}
