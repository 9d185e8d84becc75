import CallTrackCore

extension CallEvent {
    /// The call as calltrackd stores it. Revisions follow the call's life (ringing 1, answered 2, ended 3),
    /// so replays and reconnect resyncs are idempotent and never step a call back.
    public var record: CallRecord {
        let revision = switch self {
        case .started: 1
        case .answered: 2
        case .ended: 3
        }
        return call.record(revision: revision)
    }
}

extension Call {
    public func record(revision: Int) -> CallRecord {
        func cut(_ text: String?) -> String? { text.map { String($0.prefix(CallRecord.maxTextLength)) } }
        let raw: String = switch caller {
        case .number(let number): number.e164
        case .withheld(let text), .unparsable(let text): text
        }
        return CallRecord(
            id: id, revision: revision, trackingNumber: trackingNumber, dialled: cut(dialled) ?? "",
            caller: caller.number, callerRaw: cut(raw) ?? "", callerWithheld: caller.isWithheld, callerName: cut(callerName),
            startedAt: ringStartedAt, answeredAt: answeredAt, endedAt: endedAt, answeredBy: cut(answeredBy?.description),
            queue: cut(queue), disposition: disposition?.rawValue, hangupCause: hangupCause, ringSeconds: ringSeconds,
            talkSeconds: talkSeconds, recording: cut(recording), resumed: resumed, endedWhileDisconnected: endedWhileDisconnected)
    }
}
