import Crypto

/// How a webhook request is signed, so a receiver can tell it came from this daemon and refuse a replay.
///
/// ```
/// X-Calltrackd-Timestamp: 1733580000
/// X-Calltrackd-Signature: v1=<hex of HMAC-SHA256(secret, "1733580000." + body)>
/// ```
/// The receiver recomputes the HMAC over the timestamp header, a dot and the raw body, compares it in constant
/// time, and refuses a timestamp older than a few minutes (docs/webhooks.md). Each attempt is signed afresh with
/// the time it is sent, so a retry an hour later is not refused as stale.
public enum WebhookSignature {
    public static let timestampHeader = "X-Calltrackd-Timestamp"
    public static let signatureHeader = "X-Calltrackd-Signature"
    /// The scheme's version prefix: a later scheme can be sent beside this one during a change of algorithm.
    public static let scheme = "v1"

    /// `v1=<64 hex digits>` for `body` sent at `timestamp` (seconds since the epoch).
    public static func sign(body: some Collection<UInt8>, timestamp: Int64, secret: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: secret))
        return "\(scheme)=" + hex(code)
    }

    /// Whether `header` is a valid signature of `body` at `timestamp` (constant-time comparison); for tests and tools.
    public static func verify(header: String, body: some Collection<UInt8>, timestamp: Int64, secret: [UInt8]) -> Bool {
        let expected = Array(sign(body: body, timestamp: timestamp, secret: secret).utf8)
        let given = Array(header.utf8)
        guard expected.count == given.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(expected, given) { difference |= a ^ b }
        return difference == 0
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
