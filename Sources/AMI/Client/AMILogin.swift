/// How calltrackd logs in to AMI.
public struct AMILogin: Sendable, Equatable {
    public enum Auth: String, Sendable, Equatable, CaseIterable {
        /// `Login` with `Secret`.
        case plain
        /// `Challenge` then `Login` with `Key: md5(challenge + secret)`: the secret never crosses the wire.
        case md5
    }

    public var username: String
    public var secret: String
    public var auth: Auth
    /// `Events:` of the Login: `on`, or an event class mask such as `call,agent,cdr`.
    public var events: String

    public init(username: String, secret: String, auth: Auth = .plain, events: String = "on") {
        self.username = username
        self.secret = secret
        self.auth = auth
        self.events = events
    }
}

/// Exponential backoff with jitter between reconnect attempts.
public struct AMIBackoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Share of each delay taken off at random, so many clients do not reconnect in step.
    public var jitter: Double

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), multiplier: Double = 2, jitter: Double = 0.2) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The delay before attempt `attempt` (1 is the first retry); `random` is uniform in [0, 1).
    public func delay(attempt: Int, random: Double) -> Duration {
        let base = initial.secondsDouble * pow(multiplier, Double(max(0, attempt - 1)))
        let capped = min(base, maximum.secondsDouble)
        let jittered = capped * (1 - jitter * min(max(random, 0), 1))
        return .microseconds(Int64(jittered * 1_000_000))
    }

    private func pow(_ base: Double, _ exponent: Double) -> Double {
        var result = 1.0
        var remaining = Int(min(exponent, 64))
        while remaining > 0 { result *= base; remaining -= 1 }
        return result
    }
}

/// A small seeded generator (SplitMix64) so tests can replay the jitter.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension AMILogin {
    /// The `Key` of an MD5 login: lowercase hex of md5(challenge + secret), as Asterisk computes it.
    public static func md5Key(challenge: String, secret: String) -> String {
        MD5.hex(challenge + secret)
    }
}
