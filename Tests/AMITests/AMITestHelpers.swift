import AMI
import CallTrackCore
import Foundation
import NIOCore
import TestSupport

/// Decoder and assembler wired as the client wires them, without a socket.
struct Pipeline {
    var decoder: AMIDecoder
    var assembler: CallAssembler
    var events: [CallEvent] = []
    var banners: [String] = []
    var malformed: [AMIDecodingError] = []

    init(settings: CallAssemblerSettings = CallAssemblerSettings(), filtered: Bool = true, limits: AMIDecoder.Limits = .init()) {
        assembler = CallAssembler(settings: settings)
        decoder = AMIDecoder(limits: limits, filter: filtered ? assembler.messageFilter : .all)
    }

    mutating func feed(_ bytes: some Sequence<UInt8>, at time: Timestamp = Timestamp(secondsSinceEpoch: 1_800_000_000)) {
        decoder.feed(bytes)
        while let output = decoder.next() {
            switch output {
            case .banner(let banner): banners.append(banner)
            case .message(let message): assembler.process(message, arrivedAt: time, into: &events)
            case .malformed(let error): malformed.append(error)
            }
        }
    }

    var ended: [Call] { events.compactMap { if case .ended(let call) = $0 { call } else { nil } } }
}

/// Splits `bytes` into chunks of the sizes `next` returns.
func chunks(_ bytes: [UInt8], sizes next: () -> Int) -> [ArraySlice<UInt8>] {
    var result: [ArraySlice<UInt8>] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + max(1, next()))
        result.append(bytes[start..<end])
        start = end
    }
    return result
}

/// What differs between the calls assembled and the fixture's ground truth (empty when all match).
func mismatches(_ calls: [Call], _ expectation: AMIExpectation) -> [String] {
    var problems: [String] = []
    let expectedIDs = expectation.calls.map(\.linkedid)
    if calls.map(\.id).sorted() != expectedIDs.sorted() {
        problems.append("calls \(calls.map(\.id).sorted()) != expected \(expectedIDs.sorted())")
    }
    for expected in expectation.calls {
        guard let call = calls.first(where: { $0.id == expected.linkedid }) else { continue }
        let want = expected.expect
        func check(_ what: String, _ got: String?, _ wanted: String?) {
            if got != wanted { problems.append("\(expected.linkedid) \(what): got \(got ?? "nil"), expected \(wanted ?? "nil")") }
        }
        check("tracking number", call.trackingNumber?.e164, want.trackingNumber)
        check("caller", call.caller.number?.e164, want.callerE164)
        check("withheld", "\(call.caller.isWithheld)", "\(want.callerWithheld)")
        check("outcome", call.disposition.map(outcomeName), want.outcome)
        if !answererMatches(call.answeredBy, want.answeredBy) {
            problems.append("\(expected.linkedid) answered by: got \(call.answeredBy.map { "\($0)" } ?? "nil"), expected \(want.answeredBy ?? "nil")")
        }
        check("transferred to", call.transferredTo, want.transferredTo)
    }
    return problems
}

func outcomeName(_ disposition: CallDisposition) -> String {
    disposition == .abandoned ? "abandoned_in_queue" : disposition.rawValue
}

/// The fixtures spell who answered in three ways: a device (`SIP/101`), a queue member
/// (`queue sales, member Local/102@agents/n` or `SIP/102 (queue sales)`), an outside number
/// (`SIP/dealer (external number 84951234567)`).
func answererMatches(_ answerer: Answerer?, _ expected: String?) -> Bool {
    guard let expected else { return answerer == nil }
    guard let answerer else { return false }
    if expected.hasPrefix("queue ") {
        return expected == "queue \(answerer.queue ?? "-"), member \(answerer.member ?? "-")"
    }
    if let open = expected.firstIndex(of: "(") {
        let party = expected[..<open].trimmingCharacters(in: .whitespaces)
        let note = expected[open...].dropFirst().dropLast()
        if note.hasPrefix("queue ") { return answerer.party == party && answerer.queue == String(note.dropFirst(6)) }
        if note.hasPrefix("external number ") {
            return answerer.party == party && answerer.dialString?.hasSuffix("/" + note.dropFirst(16)) == true
        }
        return false
    }
    return answerer.party == expected
}
