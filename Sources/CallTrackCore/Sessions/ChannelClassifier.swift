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

    static func isSocial(_ host: String?) -> Bool {
        guard let host else { return false }
        return socialNetworks.contains { network in
            // "pinterest." stands for every country domain (pinterest.co.uk, ru.pinterest.com); the
            // rest are whole domains, so x.company.org is not x.com.
            if network.hasSuffix(".") { return host.hasPrefix(network) || host.contains("." + network) }
            return host == network || host.hasSuffix("." + network)
        }
    }

    /// The lowercased host of a URL string, without `www.`; nil when there is none.
    public static func host(of url: String?) -> String? {
        guard var rest = url?.lowercased()[...], !rest.isEmpty else { return nil }
        if let scheme = rest.firstRange(of: "://") { rest = rest[scheme.upperBound...] } else { return nil }
        let end = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" || $0 == ":" } ?? rest.endIndex
        var host = rest[..<end]
        if let at = host.lastIndex(of: "@") { host = host[host.index(after: at)...] }
        if host.hasPrefix("www.") { host = host.dropFirst(4) }
        return String(host)
    }

    static func sameSite(_ a: String, _ b: String) -> Bool {
        a == b || a.hasSuffix("." + b) || b.hasSuffix("." + a)
    }
}
