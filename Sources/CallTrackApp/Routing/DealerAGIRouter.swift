import AGI
import CallTrackCore
import FastAGI

/// Answers FastAGI sessions with routing decisions: finds the site from the tracking number dialled,
/// the caller from the caller id, decides, and names the result in the channel variables the
/// dialplan (`asterisk/extensions-routing.conf`) reads.
///
/// The dialplan runs `AGI(agi://127.0.0.1:4573/route,${CHANNEL(linkedid)},${CT_TRACKING})`: argument 1
/// is the call id as the AMI side names the call (the `Linkedid`; `agi_uniqueid` when absent),
/// argument 2 the tracking number (`agi_dnid`, then `agi_extension` when absent).
public struct DealerAGIRouter: AGIRouter {
    /// The channel variables calltrackd sets, as the dialplan reads them.
    public enum Variable {
        /// The call id (the lead's id).
        public static let lead = "CT_LEAD"
        /// The chosen dealer's id; empty when the site's default route applies.
        public static let dealer = "CT_DEALER"
        /// How many dial targets follow (`CT_DIAL`, `CT_DIAL_2`, …); 0: the dialplan's own fallback.
        public static let count = "CT_DIAL_COUNT"
        /// The first target.
        public static let firstTarget = "CT_DIAL"
        /// The n-th target, n ≥ 2.
        public static func target(_ n: Int) -> String { n == 1 ? firstTarget : "CT_DIAL_\(n)" }
    }

    public let desk: RoutingDesk
    let clock: any WallClock
    let country: Country
    let siteOf: @Sendable (PhoneNumber) -> String?
    let sticky: (@Sendable (PhoneNumber) async -> String?)?
    let knownSticky: (@Sendable (PhoneNumber, Timestamp) -> StickyDealers.Answer)?

    /// `siteOf` names the site that owns a tracking number; `sticky` looks up the dealer who handled a
    /// caller before; `knownSticky` is that answer held in memory (`.readStore` when only `sticky` can tell).
    /// A session whose answer needs nothing awaited (no lookup, or the answer known) is answered on its event
    /// loop at once.
    public init(
        desk: RoutingDesk, clock: any WallClock, country: Country, siteOf: @escaping @Sendable (PhoneNumber) -> String?,
        sticky: (@Sendable (PhoneNumber) async -> String?)? = nil,
        knownSticky: (@Sendable (PhoneNumber, Timestamp) -> StickyDealers.Answer)? = nil
    ) {
        self.desk = desk
        self.clock = clock
        self.country = country
        self.siteOf = siteOf
        self.sticky = sticky
        self.knownSticky = knownSticky
    }

    public func answer(_ environment: AGIEnvironment) async -> AGIAnswer {
        let caller = self.caller(environment)
        var stickyDealer: String?
        if let caller, let sticky {
            switch known(caller) {
            case .dealer(let dealer): stickyDealer = dealer
            case .none: stickyDealer = nil
            case .readStore: stickyDealer = await sticky(caller)
            }
        }
        return decide(environment, caller: caller, stickyDealer: stickyDealer)
    }

    public func immediateAnswer(_ environment: AGIEnvironment) -> AGIAnswer? {
        let caller = self.caller(environment)
        guard let caller, sticky != nil else { return decide(environment, caller: caller, stickyDealer: nil) }
        switch known(caller) {
        case .dealer(let dealer): return decide(environment, caller: caller, stickyDealer: dealer)
        case .none: return decide(environment, caller: caller, stickyDealer: nil)
        case .readStore: return nil
        }
    }

    func known(_ caller: PhoneNumber) -> StickyDealers.Answer {
        knownSticky?(caller, clock.now()) ?? .readStore
    }

    func caller(_ environment: AGIEnvironment) -> PhoneNumber? {
        environment.callerID.flatMap { try? PhoneNumber.parse($0, defaultCountry: country) }
    }

    func decide(_ environment: AGIEnvironment, caller: PhoneNumber?, stickyDealer: String?) -> AGIAnswer {
        let call = callID(environment)
        guard let site = site(environment) else { return Self.defaultAnswer(call: call, route: nil) }
        let decision = desk.route(RoutingRequest(site: site, caller: caller, at: clock.now(), stickyDealer: stickyDealer), call: call)
        guard let dealer = decision.dealer else { return Self.defaultAnswer(call: call, route: desk.defaultRoute(site: site)) }
        return AGIAnswer(variables: Self.variables(call: call, dealer: dealer, targets: decision.targets), call: call)
    }

    public func fallback(_ environment: AGIEnvironment) -> AGIAnswer {
        var answer = Self.defaultAnswer(call: callID(environment), route: desk.defaultRoute(site: site(environment)))
        answer.isFallback = true
        return answer
    }

    public func abandoned(_ answer: AGIAnswer) {
        if let call = answer.call, !answer.isFallback { desk.release(call: call) }
    }

    func callID(_ environment: AGIEnvironment) -> String? {
        environment.arguments.first.flatMap { $0.isEmpty ? nil : $0 } ?? environment.uniqueID
    }

    /// The site owning the first of argument 2, `agi_dnid`, `agi_extension` that is a tracking number.
    func site(_ environment: AGIEnvironment) -> String? {
        let arguments = environment.arguments
        let candidates = [arguments.count > 1 ? arguments[1] : nil, environment.dnid, environment.extensionName]
        for raw in candidates.compactMap({ $0 }) {
            if let number = try? PhoneNumber.parse(raw, defaultCountry: country), let site = siteOf(number) { return site }
        }
        return nil
    }

    static func variables(call: String?, dealer: String, targets: [String]) -> [AGIAnswer.Variable] {
        var variables = [AGIAnswer.Variable(Variable.lead, call ?? ""), AGIAnswer.Variable(Variable.dealer, dealer),
                         AGIAnswer.Variable(Variable.count, String(targets.count))]
        for (offset, target) in targets.enumerated() { variables.append(AGIAnswer.Variable(Variable.target(offset + 1), target)) }
        return variables
    }

    static func defaultAnswer(call: String?, route: String?) -> AGIAnswer {
        AGIAnswer(variables: [
            AGIAnswer.Variable(Variable.lead, call ?? ""), AGIAnswer.Variable(Variable.dealer, ""),
            AGIAnswer.Variable(Variable.count, route == nil ? "0" : "1"), AGIAnswer.Variable(Variable.firstTarget, route ?? ""),
        ], call: nil)
    }
}
