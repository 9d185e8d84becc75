/// Derives a visit's channel: UTM medium first, then click ids, then the referrer's host.
public enum ChannelClassifier {
    static let paidMediums: Set<String> = ["cpc", "ppc", "paid", "paidsearch", "paid_search", "cpm", "cpa", "cpv", "paid-search"]
    static let displayMediums: Set<String> = ["display", "banner", "cpm", "programmatic"]
    static let socialMediums: Set<String> = ["social", "sm", "social-network", "social_media", "smm"]
    static let paidSocialMediums: Set<String> = ["paid_social", "paidsocial", "paid-social", "social_paid", "cpc_social"]
    static let emailMediums: Set<String> = ["email", "e-mail", "newsletter", "mail"]
    static let offlineMediums: Set<String> = ["offline", "print", "billboard", "exhibition", "radio", "tv"]
    static let organicMediums: Set<String> = ["organic"]

    static let searchEngines = ["google.", "yandex.", "bing.com", "duckduckgo.com", "yahoo.", "baidu.com", "mail.ru", "ecosia.org", "rambler.ru"]
    static let socialNetworks = ["facebook.com", "vk.com", "vk.ru", "ok.ru", "t.me", "telegram.", "instagram.com", "linkedin.com", "lnkd.in", "twitter.com", "x.com", "youtube.com", "dzen.ru", "pinterest.", "reddit.com", "tiktok.com"]
    static let mailHosts = ["mail.google.com", "e.mail.ru", "mail.yandex.", "outlook.live.com", "outlook.office"]

    public static func classify(_ source: MarketingSource) -> Channel {
        if let medium = source.utmMedium?.lowercased(), !medium.isEmpty {
            if paidSocialMediums.contains(medium) { return .paidSocial }
            if displayMediums.contains(medium) { return .display }
            if paidMediums.contains(medium) {
                return source.clickIDs.fbclid != nil || isSocial(host(of: source.referrer)) ? .paidSocial : .paidSearch
            }
            if socialMediums.contains(medium) { return .social }
            if emailMediums.contains(medium) { return .email }
            if offlineMediums.contains(medium) { return .offline }
            if organicMediums.contains(medium) { return .organicSearch }
            if medium == "referral" { return .referral }
        }
        if source.clickIDs.gclid != nil || source.clickIDs.yclid != nil || source.clickIDs.msclkid != nil { return .paidSearch }
        if source.clickIDs.fbclid != nil { return .paidSocial }
        if source.utmSource != nil, source.utmMedium == nil { return .referral }
        guard let referrerHost = host(of: source.referrer), !referrerHost.isEmpty else { return .direct }
        if let landingHost = host(of: source.landingURL), sameSite(referrerHost, landingHost) { return .direct }
        if mailHosts.contains(where: { referrerHost.contains($0) }) { return .email }
        if searchEngines.contains(where: { referrerHost.contains($0) }) { return .organicSearch }
        if isSocial(referrerHost) { return .social }
        return .referral
    }

    /// "pinterest." stands for every country domain (pinterest.co.uk, ru.pinterest.com); the rest are
    /// whole domains, so x.company.org is not x.com. Prepared once: this runs on every paid allocation.
    static let socialPrefixes = socialNetworks.filter { $0.hasSuffix(".") }
    static let socialDomains = Set(socialNetworks.filter { !$0.hasSuffix(".") })

    static func isSocial(_ host: String?) -> Bool {
        guard let host else { return false }
        if socialPrefixes.contains(where: { host.hasPrefix($0) || host.contains("." + $0) }) { return true }
        // The host and each parent domain: a.b.vk.com → b.vk.com → vk.com.
        var rest = Substring(host)
        while true {
            if socialDomains.contains(String(rest)) { return true }
            guard let dot = rest.firstIndex(of: ".") else { return false }
            rest = rest[rest.index(after: dot)...]
        }
    }

    /// The lowercased host of a URL string, without `www.`; nil when there is none.
    public static func host(of url: String?) -> String? {
        // Only the host is lowercased: a landing URL can be long, and this runs on every allocation.
        guard let url, !url.isEmpty, let scheme = url.utf8.firstRange(of: "://".utf8) else { return nil }
        let rest = url.utf8[scheme.upperBound...]
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ":") } ?? rest.endIndex
        var host = Substring(rest[..<end]).lowercased()[...]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("www.") { host = host.dropFirst(4) }
        return String(host)
    }

    static func sameSite(_ a: String, _ b: String) -> Bool {
        a == b || a.hasSuffix("." + b) || b.hasSuffix("." + a)
    }
}
