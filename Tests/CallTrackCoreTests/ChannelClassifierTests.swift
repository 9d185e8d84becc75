import CallTrackCore
import Testing

@Suite("Channel classification")
struct ChannelClassifierTests {
    @Test("UTM medium decides first", arguments: [
        ("cpc", nil as String?, Channel.paidSearch),
        ("CPC", nil, .paidSearch),
        ("ppc", nil, .paidSearch),
        ("cpc", "https://www.facebook.com/", .paidSocial),
        ("paid_social", nil, .paidSocial),
        ("display", nil, .display),
        ("cpm", nil, .display),
        ("banner", nil, .display),
        ("social", "https://vk.com/", .social),
        ("email", nil, .email),
        ("newsletter", nil, .email),
        ("organic", nil, .organicSearch),
        ("referral", nil, .referral),
        ("print", nil, .offline),
        ("billboard", nil, .offline),
    ])
    func utmMedium(medium: String, referrer: String?, channel: Channel) {
        let source = MarketingSource(utmSource: "any", utmMedium: medium, referrer: referrer, landingURL: "https://acme.example/")
        #expect(source.channel == channel)
    }

    @Test("a paid cpc click carrying fbclid is paid social")
    func cpcWithFacebookClick() {
        #expect(MarketingSource(utmSource: "fb", utmMedium: "cpc", clickIDs: ClickIDs(fbclid: "x")).channel == .paidSocial)
    }

    @Test("click ids prove a paid click when UTM is absent", arguments: [
        (ClickIDs(gclid: "g"), Channel.paidSearch),
        (ClickIDs(yclid: "y"), .paidSearch),
        (ClickIDs(msclkid: "m"), .paidSearch),
        (ClickIDs(fbclid: "f"), .paidSocial),
    ])
    func clickIDs(ids: ClickIDs, channel: Channel) {
        // Even with an organic-looking referrer: the ad platform sent the visitor.
        #expect(MarketingSource(clickIDs: ids, referrer: "https://www.google.com/").channel == channel)
    }

    @Test("without UTM or click ids the referrer's host decides", arguments: [
        (nil as String?, Channel.direct),
        ("", .direct),
        ("https://www.google.com/", .organicSearch),
        ("https://www.google.ru/search?q=x", .organicSearch),
        ("https://yandex.ru/search/?text=x", .organicSearch),
        ("https://www.bing.com/", .organicSearch),
        ("https://duckduckgo.com/", .organicSearch),
        ("https://go.mail.ru/search", .organicSearch),
        ("https://mail.google.com/mail/u/0/", .email),
        ("https://e.mail.ru/inbox", .email),
        ("https://m.facebook.com/", .social),
        ("https://l.facebook.com/l.php?u=x", .social),
        ("https://vk.com/feed", .social),
        ("https://t.me/channel", .social),
        ("https://web.telegram.org/", .social),
        ("https://ru.pinterest.com/pin/1", .social),
        ("https://www.pinterest.co.uk/", .social),
        ("https://x.com/acme", .social),
        ("https://x.company.org/page", .referral),
        ("https://partner.example/news", .referral),
        ("https://acme.example/catalog", .direct),
        ("https://www.acme.example/catalog", .direct),
        ("https://shop.acme.example/", .direct),
        ("android-app://org.telegram.messenger", .social),
        ("not a url", .direct),
    ])
    func referrer(referrer: String?, channel: Channel) {
        let source = MarketingSource(referrer: referrer, landingURL: "https://acme.example/?utm_x=1")
        #expect(source.channel == channel, "referrer \(referrer ?? "nil")")
    }

    @Test("utm_source without a medium is a referral; a direct visit is marked as such")
    func sourceWithoutMedium() {
        #expect(MarketingSource(utmSource: "partner").channel == .referral)
        #expect(MarketingSource().isDirect)
        #expect(!MarketingSource(utmMedium: "cpc").isDirect)
    }

    @Test("an explicit channel (a static number's fixed source) is kept as given")
    func explicitChannel() {
        #expect(MarketingSource(utmMedium: "cpc", channel: .offline).channel == .offline)
    }

    @Test("hosts are read without scheme, port, user info or www")
    func hosts() {
        #expect(ChannelClassifier.host(of: "HTTPS://WWW.Google.COM:443/x") == "google.com")
        #expect(ChannelClassifier.host(of: "https://user@mail.ru/") == "mail.ru")
        #expect(ChannelClassifier.host(of: "google.com") == nil)
        #expect(ChannelClassifier.host(of: nil) == nil)
    }

    @Test("paid channels are the ones a paid segment admits")
    func paidSegment() {
        #expect(SegmentRule.paid.admits(MarketingSource(clickIDs: ClickIDs(gclid: "g"))))
        #expect(SegmentRule.paid.admits(MarketingSource(utmMedium: "display")))
        #expect(!SegmentRule.paid.admits(MarketingSource(referrer: "https://www.google.com/")))
        #expect(SegmentRule.channels([.email]).admits(MarketingSource(utmMedium: "email")))
        #expect(SegmentRule.all.admits(MarketingSource()))
    }
}
