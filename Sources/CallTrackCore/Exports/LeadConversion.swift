/// A call that became a lead (not junk), or a lead's deal won in the CRM with its amount, with the analytics ids
/// its visit carried: what web analytics need to count it as an offline conversion of that visitor.
public struct LeadConversion: Sendable, Hashable {
    public var callID: String
    public var site: String
    public var at: Timestamp
    /// Yandex Metrica's `_ym_uid` of the visit the call was matched to, if the snippet captured it.
    public var ymUID: String?
    /// Google Analytics' `_ga` client id of that visit.
    public var gaClientID: String?
    /// A won deal's amount; nil for a call.
    public var price: Money?

    public init(callID: String, site: String, at: Timestamp, ymUID: String? = nil, gaClientID: String? = nil, price: Money? = nil) {
        self.callID = callID
        self.site = site
        self.at = at
        self.ymUID = ymUID
        self.gaClientID = gaClientID
        self.price = price
    }
}
