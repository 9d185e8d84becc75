import HTTPAPI

/// A new random token and the config lines that accept it, as `calltrackd new-token` prints them: the secret
/// is shown once, the config keeps only its SHA-256.
public struct TokenLines {
    public var name: String
    public var scope: TokenScope
    public var secret: String

    public init(name: String, scope: TokenScope) {
        var generator = SystemRandomNumberGenerator()
        self.init(name: name, scope: scope, secret: (0..<24).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 15, radix: 16)
        }.joined())
    }

    public init(name: String, scope: TokenScope, secret: String) {
        self.name = name
        self.scope = scope
        self.secret = secret
    }

    public var text: String {
        """
        token (shown once; give it to the client as 'Authorization: Bearer <token>'):
          \(secret)
        config lines (add \(name) to tokens, and this section):
        tokens: [\(name)]
        token:
          \(name): { scope: \(scope.rawValue), sha256: "\(APIToken.hex(APIToken.digest(secret)))" }
        """
    }
}
