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
                return source.clickIDs.fbclid != nil || hostBytes(of: source.referrer).map(isSocial) == true ? .paidSocial : .paidSearch
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
        guard let bytes = hostBytes(of: source.referrer), !bytes.isEmpty else { return .direct }
        if let landingHost = hostBytes(of: source.landingURL), sameSite(bytes, landingHost) { return .direct }
        if mailHostBytes.contains(where: { Bytes.contains(bytes, $0) }) { return .email }
        if searchEngineBytes.contains(where: { Bytes.contains(bytes, $0) }) { return .organicSearch }
        if isSocial(bytes) { return .social }
        return .referral
    }

    /// The lists as bytes, prepared once: this runs on every allocation, and `String.contains` and
    /// concatenated suffixes cost more than the rest of the classification.
    static let mailHostBytes = mailHosts.map { Array($0.utf8) }
    static let searchEngineBytes = searchEngines.map { Array($0.utf8) }
    /// "pinterest." stands for every country domain (pinterest.co.uk, ru.pinterest.com): a prefix of the
    /// host or of any of its labels.
    static let socialPrefixes = socialNetworks.filter { $0.hasSuffix(".") }.map { Array($0.utf8) }
    static let dottedSocialPrefixes = socialPrefixes.map { [UInt8(ascii: ".")] + $0 }
    /// The rest are whole domains, so x.company.org is not x.com, but a.b.vk.com is vk.com.
    static let socialDomains = socialNetworks.filter { !$0.hasSuffix(".") }.map { Array($0.utf8) }
    static let dottedSocialDomains = socialDomains.map { [UInt8(ascii: ".")] + $0 }

    static func isSocial(_ host: [UInt8]) -> Bool {
        for (prefix, dotted) in zip(socialPrefixes, dottedSocialPrefixes)
        where host.starts(with: prefix) || Bytes.contains(host, dotted) { return true }
        for (domain, dotted) in zip(socialDomains, dottedSocialDomains)
        where host.elementsEqual(domain) || Bytes.hasSuffix(host, dotted) { return true }
        return false
    }

    /// The lowercased host of a URL string, without `www.`; nil when there is none.
    public static func host(of url: String?) -> String? {
        hostBytes(of: url).map { String(decoding: $0, as: UTF8.self) }
    }

    static func hostBytes(of url: String?) -> [UInt8]? {
        // Bytes only, and only the host is lowercased: a landing URL can be long, and this runs on every allocation.
        guard let url else { return nil }
        let bytes = url.utf8
        guard let scheme = Bytes.firstIndex(of: Self.schemeSeparator, in: bytes) else { return nil }
        let rest = bytes[bytes.index(scheme, offsetBy: 3)...]
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") || $0 == UInt8(ascii: ":") } ?? rest.endIndex
        var host = rest[..<end]
        if let at = host.lastIndex(of: UInt8(ascii: "@")) { host = host[host.index(after: at)...] }
        var lowered = host.map { (65...90).contains($0) ? $0 | 0x20 : $0 }
        if lowered.starts(with: Self.www) { lowered.removeFirst(4) }
        return lowered
    }

    static let schemeSeparator = Array("://".utf8)
    static let www = Array("www.".utf8)

    static func sameSite(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a == b || isSubdomain(a, of: b) || isSubdomain(b, of: a)
    }

    /// `a` ends with "." + `b`.
    private static func isSubdomain(_ a: [UInt8], of b: [UInt8]) -> Bool {
        a.count > b.count && a[a.count - b.count - 1] == UInt8(ascii: ".") && a.suffix(b.count).elementsEqual(b)
    }
}

/// Substring search on UTF-8 bytes, without the generic collection algorithms `String.contains` goes through.
enum Bytes {
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        firstIndex(of: needle, in: haystack) != nil
    }

    static func hasSuffix(_ bytes: [UInt8], _ suffix: [UInt8]) -> Bool {
        bytes.count >= suffix.count && bytes.suffix(suffix.count).elementsEqual(suffix)
    }

    static func firstIndex<C: BidirectionalCollection<UInt8>>(of needle: [UInt8], in haystack: C) -> C.Index? {
        guard let first = needle.first else { return haystack.startIndex }
        var start = haystack.startIndex
        while let candidate = haystack[start...].firstIndex(of: first) {
            if haystack[candidate...].starts(with: needle) { return candidate }
            start = haystack.index(after: candidate)
        }
        return nil
    }
}
