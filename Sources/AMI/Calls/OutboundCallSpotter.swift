import CallTrackCore

/// A call a device placed to an outside number, as AMI showed it: a dealer calling a missed caller back.
public struct OutboundCall: Sendable, Hashable {
    /// The calling channel's device without its instance suffix: `PJSIP/dealer-12`, `Local/200@dealers`.
    public var device: String
    /// The number dialled.
    public var to: PhoneNumber
    public var at: Timestamp

    public init(device: String, to: PhoneNumber, at: Timestamp) {
        self.device = device
        self.to = to
        self.at = at
    }
}

/// Spots outbound calls in the AMI event stream: a `Newchannel` that starts a call (its `Uniqueid` is its own
/// `Linkedid`) outside the inbound context, whose `Exten` is a phone number. Pure; time comes with each message.
///
/// ```
/// Event: Newchannel / Channel: PJSIP/dealer-13-0000002a / Context: from-dealers / Exten: 89161234567
///   → OutboundCall(device: "PJSIP/dealer-13", to: +79161234567)
/// ```
public struct OutboundCallSpotter: Sendable {
    public let settings: CallAssemblerSettings

    public init(settings: CallAssemblerSettings = CallAssemblerSettings()) {
        self.settings = settings
    }

    /// The outbound call `message` starts, if it starts one.
    public func spot(_ message: AMIMessage, arrivedAt: Timestamp) -> OutboundCall? {
        guard message.event == "Newchannel", let uniqueid = message["Uniqueid"], uniqueid == message["Linkedid"],
              !message.has("Context", equalTo: settings.inboundContext),
              let channel = message["Channel"], let exten = message["Exten"], !exten.isEmpty, exten != "s",
              let number = try? PhoneNumber.parse(exten, defaultCountry: settings.defaultCountry)
        else { return nil }
        return OutboundCall(device: CallAssembler.party(ofChannel: channel), to: number,
                            at: CallAssembler.eventTime(message) ?? arrivedAt)
    }
}
