import CallTrackCore
import Testing

@Suite("Visitor identifiers")
struct VisitorIdentifierTests {
    @Test("garbage names no one: empty, blank, too long, control characters")
    func rejectsGarbage() {
        #expect(VisitorIdentifier(.gaClientID, nil) == nil)
        #expect(VisitorIdentifier(.gaClientID, "") == nil)
        #expect(VisitorIdentifier(.gaClientID, "   ") == nil)
        #expect(VisitorIdentifier(.gclid, String(repeating: "x", count: VisitorIdentifier.maxLength + 1)) == nil)
        #expect(VisitorIdentifier(.crmContact, "42\n43") == nil)
        #expect(VisitorIdentifier(.phone, "not a phone") == nil)
        #expect(VisitorIdentifier(.gclid, String(repeating: "x", count: VisitorIdentifier.maxLength))?.value.count == VisitorIdentifier.maxLength)
        #expect(VisitorIdentifier(.ymUID, "  171000 ")?.value == "171000", "surrounding blanks are not part of an id")
    }

    @Test("phones are kept as E.164, so a call's caller and a connector's spelling meet")
    func phonesAreE164() throws {
        #expect(VisitorIdentifier(.phone, "+7 916 123-45-67")?.value == "+79161234567")
        #expect(VisitorIdentifier(.phone, "+79161234567") == VisitorIdentifier(phone: try PhoneNumber.e164("+79161234567")))
        #expect(VisitorIdentifier(phone: try PhoneNumber.e164("+79161234567")).description == "phone:+79161234567")
    }

    @Test("a visit yields the identifiers it carries, of the kinds the config links by")
    func sessionIdentifiers() throws {
        var session = SessionRecord(
            id: "s1", visitorID: "v1", siteID: "acme", startedAt: Timestamp(secondsSinceEpoch: 0), lastActivityAt: Timestamp(secondsSinceEpoch: 0),
            source: MarketingSource(clickIDs: ClickIDs(gclid: "Cj0K", yclid: "  ")), gaClientID: "1.2", ymUID: nil,
            number: try PhoneNumber.e164("+74950000001"), kind: .pool)
        let all = session.identifiers(linking: VisitorIdentifier.Kind.fromSessions).map(\.description)
        #expect(all == ["ga:1.2", "gclid:Cj0K"], "a blank yclid and a missing ym uid link nothing")
        #expect(session.identifiers(linking: [.gaClientID]).map(\.description) == ["ga:1.2"])
        #expect(session.identifiers(linking: []).isEmpty)
        session.gaClientID = nil
        #expect(session.identifiers(linking: [.gaClientID]).isEmpty)
        #expect(!VisitorIdentifier.Kind.fromSessions.contains(.phone) && !VisitorIdentifier.Kind.fromSessions.contains(.crmContact))
    }
}
