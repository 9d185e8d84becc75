/// What became of a lead in the CRM (SPEC §Leads in PostgreSQL): qualified as a real enquiry, a won deal with its
/// amount, or lost. A connector reports it through the admin API or the PostgreSQL `outcome_report` table; a lead
/// keeps one outcome per stage, so a report sent twice counts once and a corrected one replaces the first.
public struct DealOutcome: Hashable, Sendable {
    public enum Stage: String, Hashable, Sendable, CaseIterable, Codable, Comparable {
        case qualified, won, lost

        /// The order a deal moves in; `won` and `lost` both end it.
        var rank: Int {
            switch self {
            case .qualified: 0
            case .won: 1
            case .lost: 2
            }
        }

        public static func < (lhs: Stage, rhs: Stage) -> Bool { lhs.rank < rhs.rank }
    }

    public var stage: Stage
    /// The deal's amount (won deals; a qualified lead may carry the expected amount).
    public var amount: Money?
    /// The deal's id in the CRM, to find it again.
    public var crmDealID: String?
    /// When the CRM moved the deal to this stage.
    public var at: Timestamp
    /// Who reported it: `api` (the admin API) or `postgres` (the outcome table).
    public var reportedBy: String

    public init(stage: Stage, amount: Money? = nil, crmDealID: String? = nil, at: Timestamp, reportedBy: String) {
        self.stage = stage
        self.amount = amount
        self.crmDealID = crmDealID
        self.at = at
        self.reportedBy = reportedBy
    }

    /// The same report: what a repeated delivery of it carries (who sent it does not make it another one).
    public func reports(sameAs other: DealOutcome) -> Bool {
        stage == other.stage && amount == other.amount && crmDealID == other.crmDealID && at == other.at
    }
}

extension Lead {
    /// The deal's stage now: the latest of `won` and `lost` (a deal reopened and won after all is won), else
    /// `qualified`.
    public var dealStage: DealOutcome.Stage? {
        outcomes.max { ($0.stage == .qualified ? 0 : 1, $0.at) < ($1.stage == .qualified ? 0 : 1, $1.at) }?.stage
    }

    /// The won deal, if the CRM reported one.
    public var wonDeal: DealOutcome? { outcomes.first { $0.stage == .won } }

    /// Records `outcome`, replacing this stage's earlier report; returns whether the lead changed (a report
    /// identical to the stored one leaves the lead and its revision as they are).
    @discardableResult
    public mutating func record(_ outcome: DealOutcome, at now: Timestamp) -> Bool {
        if let index = outcomes.firstIndex(where: { $0.stage == outcome.stage }) {
            if outcomes[index].reports(sameAs: outcome) { return false }
            outcomes[index] = outcome
        } else {
            outcomes.append(outcome)
            outcomes.sort { $0.stage < $1.stage }
        }
        revision += 1
        changedAt = now
        return true
    }
}

/// As the lead's JSON carries it (`Lead: Codable`): the amount as a decimal string, never a float.
extension DealOutcome: Codable {
    enum CodingKeys: String, CodingKey { case stage, amount, currency, crmDealID, at, reportedBy }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var amount: Money?
        if let text = try c.decodeIfPresent(String.self, forKey: .amount) {
            amount = try Money.parse(text, currency: try c.decode(String.self, forKey: .currency))
        }
        self.init(stage: try c.decode(Stage.self, forKey: .stage), amount: amount,
                  crmDealID: try c.decodeIfPresent(String.self, forKey: .crmDealID), at: try c.decode(Timestamp.self, forKey: .at),
                  reportedBy: try c.decode(String.self, forKey: .reportedBy))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(stage, forKey: .stage)
        try c.encodeIfPresent(amount?.decimal, forKey: .amount)
        try c.encodeIfPresent(amount?.currency, forKey: .currency)
        try c.encodeIfPresent(crmDealID, forKey: .crmDealID)
        try c.encode(at, forKey: .at)
        try c.encode(reportedBy, forKey: .reportedBy)
    }
}

extension DealOutcome {
    /// An outcome as a connector reports it, checked: a known stage, an amount (0 or more, hundredths at most) only
    /// with its currency, a deal id of 1 to 200 bytes without control characters. The error says what to write.
    public static func reported(
        stage: String, amount: String?, currency: String?, crmDealID: String?, at: Timestamp, by reporter: String
    ) throws(OutcomeProblem) -> DealOutcome {
        guard let known = Stage(rawValue: stage) else { throw OutcomeProblem("stage '\(stage.prefix(40))' is not a stage: write qualified, won or lost") }
        var money: Money?
        switch (amount, currency) {
        case (nil, nil): break
        case (nil, .some): throw OutcomeProblem("currency without an amount: send the amount too, or neither")
        case (.some, nil): throw OutcomeProblem("amount without a currency: add the currency, ISO 4217's three letters, e.g. RUB")
        case (let amount?, let currency?):
            do { money = try Money.parse(amount, currency: currency) } catch { throw OutcomeProblem("amount: \(error)") }
            if let money, money.hundredths < 0 { throw OutcomeProblem("amount is negative: send what the deal is worth, 0 or more") }
        }
        if let id = crmDealID, id.isEmpty || id.utf8.count > 200 || id.unicodeScalars.contains(where: { $0.value < 32 || $0.value == 127 }) {
            throw OutcomeProblem("crm_deal_id is not a deal id: 1 to 200 bytes with no control characters")
        }
        return DealOutcome(stage: known, amount: money, crmDealID: crmDealID, at: at, reportedBy: reporter)
    }
}

/// Why a reported outcome was refused; `description` says what to send instead.
public struct OutcomeProblem: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
