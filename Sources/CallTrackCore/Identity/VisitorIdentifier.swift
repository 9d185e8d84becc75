/// Something that names a person besides our own visitor cookie: a caller's phone, an analytics client id,
/// an ad click id, a CRM contact id (SPEC §Identity over a long sales cycle). Two visitors that share one
/// identifier are one person and merge.
public struct VisitorIdentifier: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Hashable, Sendable, Codable {
        /// A caller's phone (E.164), bound by a matched call or linked by a connector.
        case phone
        /// Google Analytics client id (`_ga` cookie, e.g. `1234567890.1700000000`).
        case gaClientID = "ga"
        /// Yandex Metrica user id (`_ym_uid` cookie).
        case ymUID = "ym"
        case gclid, yclid, fbclid, msclkid
        /// A contact id in the company's CRM, written back by a connector.
        case crmContact = "crm"

        /// The kinds a website session carries.
        public static let fromSessions: Set<Kind> = [.gaClientID, .ymUID, .gclid, .yclid, .fbclid, .msclkid]
    }

    /// Longest value kept: every real id fits; a longer one is garbage, not an identity.
    public static let maxLength = 200

    public let kind: Kind
    public let value: String

    /// Nil for what cannot name anyone: empty, too long, or with control characters (C0, DEL, C1) or line breaks.
    public init?(_ kind: Kind, _ raw: String?) {
        guard let raw else { return nil }
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty, value.utf8.count <= Self.maxLength,
              !value.unicodeScalars.contains(where: \.isControlOrLineBreak) else { return nil }
        if kind == .phone {
            // Phones are stored as E.164 so a call's caller and a connector's spelling meet. Only international
            // spellings here: a local one needs the site's country (`PhoneNumber.parse`, then `init(phone:)`).
            guard value.hasPrefix("+"), let phone = try? PhoneNumber.parse(value) else { return nil }
            self.value = phone.e164
        } else {
            self.value = value
        }
        self.kind = kind
    }

    public init(phone: PhoneNumber) {
        kind = .phone
        value = phone.e164
    }

    /// `kind:value`, as merges record what linked two visitors.
    public var description: String { "\(kind.rawValue):\(value)" }
}

extension SessionRecord {
    /// The identifiers this visit carried, of the kinds `linking` allows.
    public func identifiers(linking: Set<VisitorIdentifier.Kind>) -> [VisitorIdentifier] {
        let clicks = source.clickIDs
        let candidates: [(VisitorIdentifier.Kind, String?)] = [
            (.gaClientID, gaClientID), (.ymUID, ymUID),
            (.gclid, clicks.gclid), (.yclid, clicks.yclid), (.fbclid, clicks.fbclid), (.msclkid, clicks.msclkid),
        ]
        return candidates.compactMap { kind, value in value != nil && linking.contains(kind) ? VisitorIdentifier(kind, value) : nil }
    }
}
