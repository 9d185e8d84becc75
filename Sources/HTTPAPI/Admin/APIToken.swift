import Crypto

/// What a token may do. `admin` may do everything; the others only their own kind of route.
public enum TokenScope: String, CaseIterable, Sendable {
    /// Everything: sites, pools, numbers, and all that the other scopes may do.
    case admin
    /// Reading: calls, leads, pools, sites, visitors (dashboards, reports).
    case read
    /// What a connector sends in: identity links and deal outcomes from a CRM, ad costs from the ad cabinets.
    case connector

    public func grants(_ needed: TokenScope) -> Bool { self == .admin || self == needed }

    /// The scope an admin route needs: reads need `read`, a connector's reports `connector`, changes `admin`.
    static func needed(method: String, path: String) -> TokenScope {
        if method == "GET" || method == "HEAD" { return .read }
        if method == "POST", connectorPaths.contains(path) || isOutcome(path) { return .connector }
        return .admin
    }

    static let connectorPaths: Set<String> = ["/v1/admin/identities", "/v1/admin/costs"]

    /// `/v1/admin/leads/{call_id}/outcome`.
    static func isOutcome(_ path: String) -> Bool {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 6 && parts[1] == "v1" && parts[2] == "admin" && parts[3] == "leads" && !parts[4].isEmpty && parts[5] == "outcome"
    }
}

/// A bearer token the admin API accepts, kept only as its SHA-256: the secret itself is never stored,
/// logged or shown after it was made. `name` is what logs and audit records say instead.
public struct APIToken: Sendable, Hashable {
    public var name: String
    public var scope: TokenScope
    public var sha256: [UInt8]

    public init(name: String, scope: TokenScope, secret: String) {
        self.init(name: name, scope: scope, sha256: Self.digest(secret))
    }

    public init(name: String, scope: TokenScope, sha256: [UInt8]) {
        self.name = name
        self.scope = scope
        self.sha256 = sha256
    }

    /// A digest written as 64 hexadecimal digits (`sha256sum` prints it so); nil for anything else.
    public static func digest(hex: String) -> [UInt8]? {
        let digits = Array(hex.lowercased().utf8)
        guard digits.count == 64 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    public static func digest(_ secret: String) -> [UInt8] { Array(SHA256.hash(data: Array(secret.utf8))) }

    public static func hex(_ digest: [UInt8]) -> String {
        digest.map { byte in String(byte >> 4, radix: 16) + String(byte & 15, radix: 16) }.joined()
    }

    private static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }

    /// The token whose digest matches `secret`'s, comparing every configured digest in full, so the time
    /// taken says nothing about which token or how much of a guess was right.
    static func match(_ secret: some Collection<UInt8>, in tokens: [APIToken]) -> APIToken? {
        let presented = Array(SHA256.hash(data: Array(secret)))
        var found: APIToken?
        for token in tokens where constantTimeEqual(presented, token.sha256) { found = token }
        return found
    }

    /// Compares without an early exit.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
