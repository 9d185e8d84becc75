import CallTrackCore

/// What the assembler needs to know about the PBX.
public struct CallAssemblerSettings: Sendable, Equatable {
    /// The dialplan context inbound trunk calls arrive in; its channels' first `Exten` is the tracking number.
    public var inboundContext: String
    /// A channel variable the dialplan sets to the tracking number (e.g. `CT_DID`); when set, it wins over `Exten`.
    public var trackingVariable: String?
    /// How national spellings of numbers are read.
    public var defaultCountry: Country
    /// The variable that names a call recording.
    public var recordingVariable: String

    public init(inboundContext: String = "from-trunk", trackingVariable: String? = nil,
                defaultCountry: Country = .ru, recordingVariable: String = "MIXMONITOR_FILENAME") {
        self.inboundContext = inboundContext
        self.trackingVariable = trackingVariable
        self.defaultCountry = defaultCountry
        self.recordingVariable = recordingVariable
    }
}

/// Turns AMI events into calls: started, answered, ended. Pure; time comes with each message.
///
/// A call is everything sharing one `Linkedid`: agent legs, ring-group losers, queue members and
/// transfer targets stay in it. It starts at the `Newchannel` of a channel in the inbound context
/// whose `Uniqueid` is its own `Linkedid`, and ends at that channel's `Hangup`. Answered means
/// `DialEnd ANSWER` on the inbound channel, or `AgentConnect` for a queue; the CDR is not used.
public struct CallAssembler: Sendable {
    public let settings: CallAssemblerSettings
    private var calls: [String: CallState] = [:]
    /// Answered legs seen in a resync listing before their inbound channel (listings come in any order).
    private var resyncAnsweredLegs: [String: Answerer] = [:]
    private let trackingVariable: String?

    public init(settings: CallAssemblerSettings = CallAssemblerSettings()) {
        self.settings = settings
        trackingVariable = settings.trackingVariable.map(Self.bareVariable)
    }

    /// Calls started and not yet ended.
    public var callsInProgress: Int { calls.count }

    /// The events this assembler reads; the decoder can drop the rest unparsed.
    public var messageFilter: AMIMessageFilter {
        AMIMessageFilter(
            events: Self.eventsRead,
            varSetVariables: ["DIALSTATUS", settings.recordingVariable] + (trackingVariable.map { [$0] } ?? [])
        )
    }

    static let eventsRead = [
        "Newchannel", "DialBegin", "DialEnd", "Hangup", "VarSet",
        "QueueCallerJoin", "QueueCallerAbandon", "AgentConnect", "BlindTransfer", "AttendedTransfer",
        "CoreShowChannel", "CoreShowChannelsComplete", "Status", "StatusComplete", "FullyBooted", "Shutdown",
    ]

    /// Reads one message; appends what it completes to `events`.
    public mutating func process(_ message: AMIMessage, arrivedAt: Timestamp, into events: inout [CallEvent]) {
        guard let event = message.event else { return }
        let time = Self.eventTime(message) ?? arrivedAt
        switch event {
        case "Newchannel": newChannel(message, at: time, into: &events)
        case "DialBegin": dialBegin(message, at: time, into: &events)
        case "DialEnd": dialEnd(message, at: time, into: &events)
        case "Hangup": hangup(message, at: time, into: &events)
        case "VarSet": varSet(message, at: time, into: &events)
        case "QueueCallerJoin": queueCallerJoin(message, at: time, into: &events)
        case "QueueCallerAbandon": onInbound(message) { state in state.abandoned = true }
        case "AgentConnect": agentConnect(message, at: time, into: &events)
        case "BlindTransfer", "AttendedTransfer": transfer(message)
        case "CoreShowChannel", "Status": listedChannel(message, at: time, into: &events)
        default: break
        }
    }

    // MARK: Resync

    /// A (re)connect is about to list the live channels: calls not listed have ended meanwhile.
    public mutating func beginResync() {
        for key in calls.keys { calls[key]!.listed = false }
        resyncAnsweredLegs.removeAll()
    }

    /// The listing is complete: closes the calls that were not in it.
    public mutating func finishResync(at time: Timestamp, into events: inout [CallEvent]) {
        for (linkedid, state) in calls.sorted(by: { $0.key < $1.key }) where !state.listed {
            var state = state
            ensureStarted(&state, into: &events)
            state.call.endedWhileDisconnected = true
            finish(&state, at: time, into: &events)
            calls[linkedid] = nil
        }
        for key in calls.keys where !calls[key]!.started {
            ensureStarted(&calls[key]!, into: &events)
        }
        resyncAnsweredLegs.removeAll()
    }

    // MARK: Events

    private mutating func newChannel(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let uniqueid = message["Uniqueid"], let linkedid = message["Linkedid"], uniqueid == linkedid,
              calls[linkedid] == nil, message.has("Context", equalTo: settings.inboundContext) else { return }
        var state = CallState(call: makeCall(message, id: linkedid, dialled: message["Exten"] ?? "", ringStartedAt: time))
        if trackingVariable == nil { ensureStarted(&state, into: &events) }
        calls[linkedid] = state
    }

    private mutating func dialBegin(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = inboundLinkedid(message) else { return }
        ensureStarted(&calls[linkedid]!, into: &events)
        if let destination = message["DestUniqueid"], let dialString = message["DialString"] {
            calls[linkedid]!.dialStrings[destination] = dialString
        }
    }

    private mutating func dialEnd(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = inboundLinkedid(message), var state = calls[linkedid] else { return }
        let status = message["DialStatus"] ?? ""
        state.lastDialStatus = status
        state.dialEndedAt = time
        if status == "ANSWER" {
            let destination = message["DestUniqueid"].flatMap { state.dialStrings[$0] }
            let answerer = Answerer(party: Self.party(ofChannel: message["DestChannel"] ?? ""), dialString: destination)
            if state.call.answeredAt == nil, !state.inQueue {
                answer(&state, by: answerer, at: time, into: &events)
            } else if state.call.answeredAt != nil, state.transferred {
                state.call.transferredTo = answerer.party
            }
        }
        calls[linkedid] = state
    }

    private mutating func queueCallerJoin(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = inboundLinkedid(message) else { return }
        ensureStarted(&calls[linkedid]!, into: &events)
        calls[linkedid]!.inQueue = true
        calls[linkedid]!.call.queue = message["Queue"]
    }

    private mutating func agentConnect(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = inboundLinkedid(message), var state = calls[linkedid], state.call.answeredAt == nil else { return }
        let answerer = Answerer(party: Self.party(ofChannel: message["DestChannel"] ?? ""),
                                queue: message["Queue"], member: message["Interface"] ?? message["MemberName"])
        answer(&state, by: answerer, at: time, into: &events)
        calls[linkedid] = state
    }

    private mutating func transfer(_ message: AMIMessage) {
        guard let linkedid = message["TransfereeLinkedid"], var state = calls[linkedid], state.call.answeredAt != nil else { return }
        state.transferred = true
        if let extensionName = message["Extension"], let context = message["Context"] {
            // Until a Dial from the inbound channel shows the device, the target is where the dialplan sent it.
            state.call.transferredTo = "Local/\(extensionName)@\(context)"
        }
        calls[linkedid] = state
    }

    private mutating func varSet(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = message["Linkedid"], var state = calls[linkedid],
              let variable = message["Variable"].map(Self.bareVariable), let value = message["Value"] else { return }
        if variable == trackingVariable, !value.isEmpty {
            state.call.dialled = value
            state.call.trackingNumber = try? PhoneNumber.parse(value, defaultCountry: settings.defaultCountry)
            ensureStarted(&state, into: &events)
        } else if variable == "DIALSTATUS", message["Uniqueid"] == linkedid {
            state.dialStatusVariable = value
        } else if variable == Self.bareVariable(settings.recordingVariable), !value.isEmpty {
            state.call.recording = value
        }
        calls[linkedid] = state
    }

    private mutating func hangup(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let linkedid = inboundLinkedid(message), var state = calls.removeValue(forKey: linkedid) else {
            if let linkedid = message["Linkedid"], message["Uniqueid"] == linkedid { resyncAnsweredLegs[linkedid] = nil }
            return
        }
        state.call.hangupCause = message["Cause"].flatMap { Int($0) }
        state.call.hangupCauseText = message["Cause-txt"]
        ensureStarted(&state, into: &events)
        finish(&state, at: time, into: &events)
    }

    /// A `CoreShowChannel` or `Status` row: a live channel, listed on request.
    private mutating func listedChannel(_ message: AMIMessage, at time: Timestamp, into events: inout [CallEvent]) {
        guard let uniqueid = message["Uniqueid"], let linkedid = message["Linkedid"] else { return }
        if uniqueid != linkedid {
            calls[linkedid]?.listed = true
            guard message["ChannelStateDesc"] == "Up", message["Application"] == "AppDial" else { return }
            let answerer = Answerer(party: Self.party(ofChannel: message["Channel"] ?? ""))
            if var state = calls[linkedid] {
                if state.call.answeredAt == nil, !state.inQueue {
                    answer(&state, by: answerer, at: time, into: &events)
                    calls[linkedid] = state
                }
            } else if resyncAnsweredLegs.count < 100_000 {
                resyncAnsweredLegs[linkedid] = answerer
            }
            return
        }
        // A call we know stays known wherever the dialplan took it (a transfer moves it to another
        // context); an unknown one is ours if it is still in the inbound context or carries the tracking variable.
        guard calls[linkedid] != nil || message.has("Context", equalTo: settings.inboundContext)
            || trackingVariableValue(in: message) != nil else { return }
        var state = calls[linkedid] ?? resumedCall(message, id: linkedid, at: time)
        state.listed = true
        if state.call.trackingNumber == nil, let dialled = dialledNumber(in: message) {
            state.call.dialled = dialled
            state.call.trackingNumber = try? PhoneNumber.parse(dialled, defaultCountry: settings.defaultCountry)
        }
        if state.call.trackingNumber != nil { ensureStarted(&state, into: &events) }
        if state.call.answeredAt == nil, let answerer = resyncAnsweredLegs.removeValue(forKey: linkedid) {
            answer(&state, by: answerer, at: time, into: &events)
        }
        calls[linkedid] = state
    }

    // MARK: Helpers

    private struct CallState: Sendable {
        var call: Call
        var started = false
        var inQueue = false
        var abandoned = false
        var transferred = false
        var listed = true
        var lastDialStatus: String?
        var dialStatusVariable: String?
        var dialEndedAt: Timestamp?
        /// `DialString` by the `DestUniqueid` it created, to name outside numbers a trunk forwarded to.
        var dialStrings: [String: String] = [:]
    }

    /// The Linkedid of a call we track, if `message` is about its inbound channel.
    private func inboundLinkedid(_ message: AMIMessage) -> String? {
        guard let linkedid = message["Linkedid"], calls[linkedid] != nil, message["Uniqueid"] == linkedid else { return nil }
        return linkedid
    }

    private mutating func onInbound(_ message: AMIMessage, _ change: (inout CallState) -> Void) {
        guard let linkedid = inboundLinkedid(message) else { return }
        change(&calls[linkedid]!)
    }

    private func makeCall(_ message: AMIMessage, id: String, dialled: String, ringStartedAt: Timestamp) -> Call {
        let name = message["CallerIDName"]
        return Call(
            id: id, inboundChannel: message["Channel"] ?? "",
            trackingNumber: try? PhoneNumber.parse(dialled, defaultCountry: settings.defaultCountry),
            dialled: dialled,
            caller: Caller(callerIDNum: message["CallerIDNum"] ?? "", defaultCountry: settings.defaultCountry),
            callerName: name == "<unknown>" || name?.isEmpty == true ? nil : name,
            ringStartedAt: ringStartedAt, answeredAt: nil, endedAt: nil, answeredBy: nil, transferredTo: nil,
            queue: nil, hangupCause: nil, hangupCauseText: nil, disposition: nil, recording: nil,
            resumed: false, endedWhileDisconnected: false, ringSeconds: nil
        )
    }

    /// A call already up when we connected, learned from a listing. Its age is in `Duration` or `Seconds`.
    private func resumedCall(_ message: AMIMessage, id: String, at time: Timestamp) -> CallState {
        let age = message["Seconds"].flatMap { Int($0) } ?? message["Duration"].flatMap(Self.seconds(ofClock:)) ?? 0
        var call = makeCall(message, id: id, dialled: "", ringStartedAt: time - .seconds(age))
        call.resumed = true
        return CallState(call: call)
    }

    /// The dialled number in a `Status` row: the tracking variable if listed, else `DNID`.
    private func dialledNumber(in message: AMIMessage) -> String? {
        if let value = trackingVariableValue(in: message) { return value }
        if let dnid = message["DNID"], !dnid.isEmpty { return dnid }
        return nil
    }

    /// `Variable: CT_DID=74950000001` in a `Status` row asked with `Variables: CT_DID`.
    private func trackingVariableValue(in message: AMIMessage) -> String? {
        guard let trackingVariable else { return nil }
        for entry in message.values("Variable") {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2, Self.bareVariable(String(parts[0])) == trackingVariable, !parts[1].isEmpty {
                return String(parts[1])
            }
        }
        return nil
    }

    private func ensureStarted(_ state: inout CallState, into events: inout [CallEvent]) {
        guard !state.started else { return }
        state.started = true
        events.append(.started(state.call))
    }

    private func answer(_ state: inout CallState, by answerer: Answerer, at time: Timestamp, into events: inout [CallEvent]) {
        ensureStarted(&state, into: &events)
        state.call.answeredAt = time
        state.call.answeredBy = answerer
        state.call.ringSeconds = max(0, (time - state.call.ringStartedAt).secondsDouble)
        events.append(.answered(state.call))
    }

    private func finish(_ state: inout CallState, at time: Timestamp, into events: inout [CallEvent]) {
        state.call.endedAt = time
        state.call.disposition = disposition(of: state)
        if state.call.answeredAt == nil {
            state.call.ringSeconds = max(0, ((state.dialEndedAt ?? time) - state.call.ringStartedAt).secondsDouble)
        }
        events.append(.ended(state.call))
    }

    private func disposition(of state: CallState) -> CallDisposition {
        if state.call.answeredAt != nil { return .answered }
        // Ended while the connection was down: the dial status and cause we hold are from before the end.
        if state.call.endedWhileDisconnected { return .unknown }
        if state.abandoned { return .abandoned }
        switch state.lastDialStatus ?? state.dialStatusVariable {
        case "BUSY": return .busy
        case "NOANSWER", "CANCEL": return .noAnswer
        case "CONGESTION", "CHANUNAVAIL", "INVALIDARGS": return .failed
        default: break
        }
        switch state.call.hangupCause {
        case 17: return .busy
        case 1, 3, 27, 28, 34, 38, 41, 42, 44, 47, 58: return .failed  // unallocated, no route, congestion, ...
        default: return .noAnswer
        }
    }

    /// `Local/101@agents-00000007;1` -> `Local/101@agents`, `SIP/101-0000000a` -> `SIP/101`.
    static func party(ofChannel channel: String) -> String {
        var name = Substring(channel)
        if name.hasSuffix(";1") || name.hasSuffix(";2") { name = name.dropLast(2) }
        if let dash = name.lastIndex(of: "-") {
            let suffix = name[name.index(after: dash)...]
            if !suffix.isEmpty, suffix.allSatisfy(\.isHexDigit) { name = name[..<dash] }
        }
        return String(name)
    }

    /// `__CT_DID` -> `CT_DID`: inheritance prefixes are not part of the name.
    static func bareVariable(_ name: String) -> String {
        String(name.drop { $0 == "_" })
    }

    /// `00:01:05` -> 65.
    static func seconds(ofClock text: String) -> Int? {
        var total = 0
        for part in text.split(separator: ":") {
            guard let value = Int(part) else { return nil }
            total = total * 60 + value
        }
        return total
    }

    /// `Timestamp: 1795439846.894089` when `timestampevents = yes`.
    static func eventTime(_ message: AMIMessage) -> Timestamp? {
        guard let raw = message.rawValue("Timestamp"), !raw.isEmpty else { return nil }
        var seconds: Int64 = 0
        var micros: Int64 = 0
        var fractionDigits = 0
        var inFraction = false
        for byte in raw {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = Int64(byte - UInt8(ascii: "0"))
                if !inFraction {
                    guard seconds < 100_000_000_000 else { return nil }
                    seconds = seconds * 10 + digit
                } else if fractionDigits < 6 {
                    micros = micros * 10 + digit
                    fractionDigits += 1
                }
            case UInt8(ascii: "."):
                if inFraction { return nil }
                inFraction = true
            default: return nil
            }
        }
        while fractionDigits < 6 { micros *= 10; fractionDigits += 1 }
        return Timestamp(microsecondsSinceEpoch: seconds * 1_000_000 + micros)
    }
}
