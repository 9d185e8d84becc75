import CallTrackCore
import Testing

@Suite("Visitor merge rule")
struct VisitorMergeRuleTests {
    static let t0 = Timestamp(secondsSinceEpoch: 1_800_000_000)

    @Test("over random links: a merge happens exactly when the identifier names another person; the first owner survives")
    func mergesOnlyTwoPeople() throws {
        var random = SeededRandom(seed: 23)
        let visitors = ["v_a", "v_b", "v_c", "v_d"]
        let phone = VisitorIdentifier(phone: try PhoneNumber.e164("+74951234567"))
        var merges = 0
        for _ in 0..<2_000 {
            let (visitor, owner) = (random.pick(visitors), random.pick(visitors))
            let (ownerSurvivor, visitorSurvivor) = (random.pick(visitors), random.pick(visitors))
            let merge = VisitorMergeRule.merge(linking: phone, to: visitor, owner: owner, ownerSurvivor: ownerSurvivor,
                                               visitorSurvivor: visitorSurvivor, by: "a call", call: "c1", at: Self.t0)
            #expect((merge != nil) == (owner != visitor && ownerSurvivor != visitorSurvivor))
            guard let merge else { continue }
            merges += 1
            #expect(merge.survivor == ownerSurvivor && merge.merged == visitorSurvivor)
            #expect(merge.via == phone.description && merge.callID == "c1" && merge.at == Self.t0)
        }
        #expect(merges > 500, "the cases include real merges")
    }

    @Test("the merge record says in words why, by the kind of identifier")
    func reasonNamesTheIdentifier() {
        #expect(VisitorMergeRule.reason(linking: .phone, by: "a call") == "a call carried a phone already bound to the survivor")
        #expect(VisitorMergeRule.reason(linking: .gclid, by: "a visit").contains("ad click id"))
        #expect(VisitorMergeRule.reason(linking: .crmContact, by: "the CRM").contains("CRM contact"))
    }
}
