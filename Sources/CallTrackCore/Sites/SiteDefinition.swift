/// A site as people write it — in the config file or an admin API body — before validation.
///
/// One shape for both, so a site moved from the file to the admin API (or back) reads the same.
/// `resolve` turns it into a `Site`, or names the first wrong key and says how to fix it.
public struct SiteDefinition: Hashable, Sendable, Codable {
    public var id: String
    public var defaultNumber: String
    public var pageNumbers: [String]?
    public var origins: [String]?
    public var mask: String?
    public var selectors: [String]?
    public var respectDnt: Bool?
    public var pools: [PoolDefinition]?
    public var staticNumbers: [StaticNumberDefinition]?
    public var unsegmentedNumber: String?
    public var dealer: String?
    /// The source of an unmatched call to the site's own numbers, as a query: `utm_source=site-phone&utm_medium=call`.
    public var defaultSource: String?

    /// The keys as the config file writes them, in an admin API body too.
    enum CodingKeys: String, CodingKey {
        case id, defaultNumber = "default_number", pageNumbers = "page_numbers", origins, mask, selectors,
             respectDnt = "respect_dnt", pools, staticNumbers = "static_numbers", unsegmentedNumber = "unsegmented_number", dealer
        case defaultSource = "default_source"
    }

    public init(
        id: String, defaultNumber: String, pageNumbers: [String]? = nil, origins: [String]? = nil, mask: String? = nil,
        selectors: [String]? = nil, respectDnt: Bool? = nil, pools: [PoolDefinition]? = nil,
        staticNumbers: [StaticNumberDefinition]? = nil, unsegmentedNumber: String? = nil, dealer: String? = nil,
        defaultSource: String? = nil
    ) {
        self.id = id
        self.defaultNumber = defaultNumber
        self.pageNumbers = pageNumbers
        self.origins = origins
        self.mask = mask
        self.selectors = selectors
        self.respectDnt = respectDnt
        self.pools = pools
        self.staticNumbers = staticNumbers
        self.unsegmentedNumber = unsegmentedNumber
        self.dealer = dealer
        self.defaultSource = defaultSource
    }

    /// `id` may be left out of a body whose URL names the site.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decodeIfPresent(String.self, forKey: .id) ?? "",
            defaultNumber: try c.decode(String.self, forKey: .defaultNumber),
            pageNumbers: try c.decodeIfPresent([String].self, forKey: .pageNumbers),
            origins: try c.decodeIfPresent([String].self, forKey: .origins),
            mask: try c.decodeIfPresent(String.self, forKey: .mask),
            selectors: try c.decodeIfPresent([String].self, forKey: .selectors),
            respectDnt: try c.decodeIfPresent(Bool.self, forKey: .respectDnt),
            pools: try c.decodeIfPresent([PoolDefinition].self, forKey: .pools),
            staticNumbers: try c.decodeIfPresent([StaticNumberDefinition].self, forKey: .staticNumbers),
            unsegmentedNumber: try c.decodeIfPresent(String.self, forKey: .unsegmentedNumber),
            dealer: try c.decodeIfPresent(String.self, forKey: .dealer),
            defaultSource: try c.decodeIfPresent(String.self, forKey: .defaultSource))
    }

    /// The definition of an existing site (what the admin API lists).
    public init(_ site: Site) {
        self.init(
            id: site.id, defaultNumber: site.defaultNumber.e164, pageNumbers: site.pageNumbers.map(\.e164),
            origins: site.allowedOrigins, mask: site.displayMask.pattern, selectors: site.selectors,
            respectDnt: site.respectDoNotTrack, pools: site.pools.map(PoolDefinition.init),
            staticNumbers: site.staticNumbers.map(StaticNumberDefinition.init),
            unsegmentedNumber: site.unsegmentedNumber?.e164, dealer: site.dealer, defaultSource: site.defaultSource.map(DefaultSource.format))
    }

    /// Validates every field; `keyPrefix` is how the caller names this site in errors (`site.acme`).
    public func resolve(country: Country, keyPrefix: String) throws(DefinitionError) -> Site {
        guard Self.isValidID(id) else {
            throw DefinitionError(key: "\(keyPrefix).id", "'\(id)' is not a valid id: use letters, digits, '-' and '_' (1–64)")
        }
        let number = { (raw: String, key: String) throws(DefinitionError) -> PhoneNumber in
            try DefinitionError.number(raw, key: "\(keyPrefix).\(key)", country: country)
        }
        var pools: [Pool] = []
        for (index, pool) in (self.pools ?? []).enumerated() {
            pools.append(try pool.resolve(country: country, keyPrefix: "\(keyPrefix).pools[\(index)]"))
        }
        var statics: [StaticNumber] = []
        for (index, item) in (staticNumbers ?? []).enumerated() {
            statics.append(try item.resolve(country: country, keyPrefix: "\(keyPrefix).static_numbers[\(index)]"))
        }
        var pageNumbers: [PhoneNumber] = []
        for (index, raw) in (self.pageNumbers ?? []).enumerated() { pageNumbers.append(try number(raw, "page_numbers[\(index)]")) }
        for (index, origin) in (origins ?? []).enumerated() where origin != "*" && !Self.isOrigin(origin) {
            throw DefinitionError(key: "\(keyPrefix).origins[\(index)]", "'\(origin)' is not an origin: write scheme://host[:port] with no path, e.g. https://acme.example")
        }
        let mask = DisplayMask(self.mask ?? "+X XXX XXX-XX-XX")
        guard mask.placeholderCount > 0 else {
            throw DefinitionError(key: "\(keyPrefix).mask", "'\(mask.pattern)' has no X: write one X per digit, e.g. +7 (XXX) XXX-XX-XX")
        }
        if let dealer, !Self.isValidID(dealer) {
            throw DefinitionError(key: "\(keyPrefix).dealer", "'\(dealer)' is not a valid dealer id: use letters, digits, '-' and '_' (1–64)")
        }
        return Site(
            id: id, defaultNumber: try number(defaultNumber, "default_number"), pageNumbers: pageNumbers,
            allowedOrigins: origins ?? [], displayMask: mask, selectors: selectors ?? [],
            respectDoNotTrack: respectDnt ?? false, pools: pools, staticNumbers: statics,
            unsegmentedNumber: try unsegmentedNumber.map { (raw) throws(DefinitionError) in try number(raw, "unsegmented_number") },
            dealer: dealer,
            defaultSource: try defaultSource.map { (raw) throws(DefinitionError) in try DefaultSource.parse(raw, key: "\(keyPrefix).default_source") })
    }

    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
            (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || byte == 45 || byte == 95
        }
    }

    static func isOrigin(_ text: String) -> Bool {
        let rest: Substring
        if text.hasPrefix("https://") { rest = text.dropFirst(8) } else if text.hasPrefix("http://") { rest = text.dropFirst(7) } else { return false }
        return !rest.isEmpty && !rest.contains("/")
    }
}

/// A pool as written: numbers and policy, durations as `90s`, `20m`, `8h`, `2d` or seconds.
public struct PoolDefinition: Hashable, Sendable, Codable {
    public var id: String
    public var numbers: [String]
    public var idleTtl: String?
    public var maxAge: String?
    public var cooldown: String?
    /// `fallback` or `share`.
    public var onExhaustion: String?
    /// `all`, `paid`, or channel names separated by commas (`paid_search,social`).
    public var segment: String?
    /// `load` or `interaction`.
    public var leaseOn: String?
    /// With `lease_on: interaction`: seconds visible that count as an interaction.
    public var interactionSeconds: Int?
    /// The source of an unmatched call to the pool, as a query: `utm_source=site-phone&utm_medium=call`.
    public var defaultSource: String?

    /// The keys as the config file writes them, in an admin API body too.
    enum CodingKeys: String, CodingKey {
        case id, numbers, idleTtl = "idle_ttl", maxAge = "max_age", cooldown, onExhaustion = "on_exhaustion", segment,
             leaseOn = "lease_on", interactionSeconds = "interaction_seconds", defaultSource = "default_source"
    }

    public init(
        id: String, numbers: [String], idleTtl: String? = nil, maxAge: String? = nil, cooldown: String? = nil,
        onExhaustion: String? = nil, segment: String? = nil, leaseOn: String? = nil, interactionSeconds: Int? = nil,
        defaultSource: String? = nil
    ) {
        self.id = id
        self.numbers = numbers
        self.idleTtl = idleTtl
        self.maxAge = maxAge
        self.cooldown = cooldown
        self.onExhaustion = onExhaustion
        self.segment = segment
        self.leaseOn = leaseOn
        self.interactionSeconds = interactionSeconds
        self.defaultSource = defaultSource
    }

    /// `id` may be left out of a body whose URL names the pool.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            id: try c.decodeIfPresent(String.self, forKey: .id) ?? "",
            numbers: try c.decode([String].self, forKey: .numbers),
            idleTtl: try c.decodeIfPresent(String.self, forKey: .idleTtl),
            maxAge: try c.decodeIfPresent(String.self, forKey: .maxAge),
            cooldown: try c.decodeIfPresent(String.self, forKey: .cooldown),
            onExhaustion: try c.decodeIfPresent(String.self, forKey: .onExhaustion),
            segment: try c.decodeIfPresent(String.self, forKey: .segment),
            leaseOn: try c.decodeIfPresent(String.self, forKey: .leaseOn),
            interactionSeconds: try c.decodeIfPresent(Int.self, forKey: .interactionSeconds),
            defaultSource: try c.decodeIfPresent(String.self, forKey: .defaultSource))
    }

    public init(_ pool: Pool) {
        let policy = pool.policy
        var interaction: Int?
        if case .interaction(let seconds) = policy.leaseOn { interaction = seconds }
        let segment: String = switch policy.segment {
        case .all: "all"
        case .paid: "paid"
        case .channels(let set): set.map(\.rawValue).sorted().joined(separator: ",")
        }
        self.init(
            id: pool.id, numbers: pool.numbers.map(\.e164), idleTtl: DurationText.format(policy.idleTTL),
            maxAge: DurationText.format(policy.maxAge), cooldown: DurationText.format(policy.cooldown),
            onExhaustion: policy.onExhaustion.rawValue, segment: segment, leaseOn: policy.leaseOn.name,
            interactionSeconds: interaction, defaultSource: pool.defaultSource.map(DefaultSource.format))
    }

    public func resolve(country: Country, keyPrefix: String) throws(DefinitionError) -> Pool {
        guard SiteDefinition.isValidID(id) else {
            throw DefinitionError(key: "\(keyPrefix).id", "'\(id)' is not a valid pool id: use letters, digits, '-' and '_' (1–64)")
        }
        var numbers: [PhoneNumber] = []
        var seen: Set<PhoneNumber> = []
        for (index, raw) in self.numbers.enumerated() {
            let number = try DefinitionError.number(raw, key: "\(keyPrefix).numbers[\(index)]", country: country)
            guard seen.insert(number).inserted else {
                throw DefinitionError(key: "\(keyPrefix).numbers[\(index)]", "\(number) is listed twice: remove one")
            }
            numbers.append(number)
        }
        let defaults = PoolPolicy()
        let duration = { (raw: String?, key: String, fallback: Duration) throws(DefinitionError) -> Duration in
            guard let raw else { return fallback }
            guard let value = DurationText.parse(raw), value > .zero else {
                throw DefinitionError(key: "\(keyPrefix).\(key)", "'\(raw)' is not a duration: write e.g. 90s, 20m, 8h or 2d")
            }
            return value
        }
        var policy = PoolPolicy(
            idleTTL: try duration(idleTtl, "idle_ttl", defaults.idleTTL),
            maxAge: try duration(maxAge, "max_age", defaults.maxAge),
            cooldown: try duration(cooldown, "cooldown", defaults.cooldown))
        if let raw = onExhaustion {
            guard let value = ExhaustionPolicy(rawValue: raw) else {
                throw DefinitionError(key: "\(keyPrefix).on_exhaustion", "'\(raw)' is not a policy: write fallback or share")
            }
            policy.onExhaustion = value
        }
        if let raw = segment { policy.segment = try Self.segment(raw, key: "\(keyPrefix).segment") }
        switch leaseOn {
        case nil, "load": policy.leaseOn = .load
        case "interaction": policy.leaseOn = .interaction(visibleSeconds: interactionSeconds ?? 10)
        case let other?:
            throw DefinitionError(key: "\(keyPrefix).lease_on", "'\(other)' is not a trigger: write load or interaction")
        }
        return Pool(id: id, numbers: numbers, policy: policy,
                    defaultSource: try defaultSource.map { (raw) throws(DefinitionError) in try DefaultSource.parse(raw, key: "\(keyPrefix).default_source") })
    }

    static func segment(_ raw: String, key: String) throws(DefinitionError) -> SegmentRule {
        switch raw {
        case "all": return .all
        case "paid": return .paid
        default:
            var channels: Set<Channel> = []
            for name in raw.split(separator: ",").map({ String($0.filter { $0 != " " }) }) {
                guard let channel = Channel(rawValue: name) else {
                    let known = Channel.allCases.map(\.rawValue).joined(separator: ", ")
                    throw DefinitionError(key: key, "'\(name)' is not a segment: write all, paid, or channels from \(known)")
                }
                channels.insert(channel)
            }
            return .channels(channels)
        }
    }
}

/// A static number as written, with the fixed source every call to it gets.
public struct StaticNumberDefinition: Hashable, Sendable, Codable {
    public var number: String
    public var utmSource: String?
    public var utmMedium: String?
    public var utmCampaign: String?
    /// `offline` unless given: billboards, print, exhibitions.
    public var channel: String?

    /// The keys as the config file writes them, in an admin API body too.
    enum CodingKeys: String, CodingKey {
        case number, utmSource = "utm_source", utmMedium = "utm_medium", utmCampaign = "utm_campaign", channel
    }

    public init(number: String, utmSource: String? = nil, utmMedium: String? = nil, utmCampaign: String? = nil, channel: String? = nil) {
        self.number = number
        self.utmSource = utmSource
        self.utmMedium = utmMedium
        self.utmCampaign = utmCampaign
        self.channel = channel
    }

    public init(_ item: StaticNumber) {
        self.init(
            number: item.number.e164, utmSource: item.source.utmSource, utmMedium: item.source.utmMedium,
            utmCampaign: item.source.utmCampaign, channel: item.source.channel.rawValue)
    }

    public func resolve(country: Country, keyPrefix: String) throws(DefinitionError) -> StaticNumber {
        let number = try DefinitionError.number(self.number, key: "\(keyPrefix).number", country: country)
        var channelValue = Channel.offline
        if let channel {
            guard let parsed = Channel(rawValue: channel) else {
                throw DefinitionError(key: "\(keyPrefix).channel", "'\(channel)' is not a channel: write one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            channelValue = parsed
        }
        let source = MarketingSource(utmSource: utmSource, utmMedium: utmMedium, utmCampaign: utmCampaign, channel: channelValue)
        return StaticNumber(number: number, source: source)
    }
}

/// A number's own source as written: a query of UTM tags and an optional channel,
/// `utm_source=site-phone&utm_medium=call&channel=direct` (the channel is `direct` unless given).
public enum DefaultSource {
    static let keys = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term", "channel"]

    public static func parse(_ raw: String, key: String) throws(DefinitionError) -> MarketingSource {
        var values: [String: String] = [:]
        for pair in raw.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { part in
                String(part.drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            }
            guard parts.count == 2, !parts[1].isEmpty, keys.contains(parts[0]), values[parts[0]] == nil else {
                throw DefinitionError(key: key, "'\(pair)' is not a source tag: write name=value pairs joined by &, names from \(keys.joined(separator: ", ")), each once, e.g. utm_source=site-phone&utm_medium=call")
            }
            values[parts[0]] = parts[1]
        }
        guard values["utm_source"] != nil else {
            throw DefinitionError(key: key, "'\(raw)' has no utm_source: the CRM shows a call by its source, e.g. utm_source=site-phone")
        }
        var channel = Channel.direct
        if let name = values["channel"] {
            guard let parsed = Channel(rawValue: name) else {
                throw DefinitionError(key: key, "'\(name)' is not a channel: write one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            channel = parsed
        }
        return MarketingSource(utmSource: values["utm_source"], utmMedium: values["utm_medium"], utmCampaign: values["utm_campaign"],
                               utmContent: values["utm_content"], utmTerm: values["utm_term"], channel: channel)
    }

    /// The query `parse` reads back as `source`.
    public static func format(_ source: MarketingSource) -> String {
        let tags: [(String, String?)] = [("utm_source", source.utmSource), ("utm_medium", source.utmMedium), ("utm_campaign", source.utmCampaign),
                                         ("utm_content", source.utmContent), ("utm_term", source.utmTerm), ("channel", source.channel.rawValue)]
        return tags.compactMap { name, value in value.map { "\(name)=\($0)" } }.joined(separator: "&")
    }
}

/// A wrong value in a site definition: which key, and what to write instead.
public struct DefinitionError: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var message: String

    public init(key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }

    public static func number(_ raw: String, key: String, country: Country) throws(DefinitionError) -> PhoneNumber {
        do {
            return try PhoneNumber.parse(raw, defaultCountry: country)
        } catch {
            throw DefinitionError(key: key, "'\(raw)' is not a phone number (\(error)): write it in E.164, e.g. +74950000000")
        }
    }
}

/// Durations as people write them in config: `90s`, `20m`, `8h`, `2d`, or plain seconds.
public enum DurationText {
    public static func parse(_ text: String) -> Duration? {
        let trimmed = text.filter { $0 != " " }.lowercased()
        guard let unit = trimmed.last else { return nil }
        let multiplier: Int64
        var digits = Substring(trimmed)
        switch unit {
        case "s": multiplier = 1; digits = digits.dropLast()
        case "m": multiplier = 60; digits = digits.dropLast()
        case "h": multiplier = 3600; digits = digits.dropLast()
        case "d": multiplier = 86_400; digits = digits.dropLast()
        default: multiplier = 1
        }
        guard let value = Int64(digits), value >= 0, value < Int64.max / multiplier / 1_000_000 else { return nil }
        return .seconds(value * multiplier)
    }

    public static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        for (unit, size) in [("d", Int64(86_400)), ("h", 3600), ("m", 60)] where seconds >= size && seconds % size == 0 {
            return "\(seconds / size)\(unit)"
        }
        return "\(seconds)s"
    }
}
