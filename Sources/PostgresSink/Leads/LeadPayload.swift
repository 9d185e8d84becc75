import CallTrackCore
import Foundation

/// The outbox payload format of a `LeadChange`: JSON, so rows written by an older daemon still
/// decode, and a person reading the outbox sees the lead.
public enum LeadPayload {
    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }

    /// The change a payload holds, or nil when it holds none. The payloads this daemon writes are
    /// read in place (`JSONByteReader`); anything else is left to `JSONDecoder`, which decides.
    public static func decode(_ payload: String, fallback: JSONDecoder? = nil) -> LeadChange? {
        if let change = readInPlace(payload) { return change }
        return try? (fallback ?? decoder()).decode(LeadChange.self, from: Data(payload.utf8))
    }

    /// The change, read without `JSONDecoder`; nil for a payload the reader does not expect.
    public static func readInPlace(_ payload: String) -> LeadChange? {
        var payload = payload
        return payload.withUTF8 { bytes in try? read(bytes) }
    }

    /// The keys `JSONEncoder` writes for `LeadChange`, in the order it writes them.
    private enum Field: Int, CaseIterable {
        case callID, revision, siteID, trackingNumber, caller, callerName, startedAt, answeredAt, endedAt,
             disposition, answeredBy, talkSeconds, ringSeconds, matchKind, matchConfidence, candidateCount,
             matchExplanation, visitorID, sessionID, userAgent, firstTouch, lastTouch, journey, dealerID,
             isLead, junkReason, repeatOf, changedAt

        static let keys = allCases.map { Array("\($0)".utf8) }
        /// The fields without which there is no change (the optional ones may be absent).
        static let required: UInt64 = [callID, revision, siteID, trackingNumber, startedAt, disposition, talkSeconds,
                                       ringSeconds, matchKind, matchConfidence, candidateCount, matchExplanation,
                                       journey, isLead, changedAt].reduce(0) { $0 | 1 << $1.rawValue }
    }

    private static let timestampKeys = [Array("microsecondsSinceEpoch".utf8)]

    private static func read(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONByteReader.Unexpected) -> LeadChange {
        var reader = JSONByteReader(bytes)
        var change = LeadChange(
            callID: "", revision: 0, siteID: "", trackingNumber: "", startedAt: .epoch, matchKind: "",
            matchConfidence: 0, candidateCount: 0, changedAt: .epoch)
        var seen: UInt64 = 0
        var expected = 0
        try reader.beginObject()
        while let index = try reader.nextKey(in: Field.keys, expected: expected, first: seen == 0) {
            guard seen & (1 << index) == 0 else { throw JSONByteReader.Unexpected() }
            seen |= 1 << index
            expected = index + 1
            switch Field(rawValue: index)! {
            case .callID: change.callID = try reader.string()
            case .revision: change.revision = try reader.int64()
            case .siteID: change.siteID = try reader.string()
            case .trackingNumber: change.trackingNumber = try reader.string()
            case .caller: change.caller = try optionalString(&reader)
            case .callerName: change.callerName = try optionalString(&reader)
            case .startedAt: change.startedAt = try timestamp(&reader)
            case .answeredAt: change.answeredAt = try reader.null() ? nil : timestamp(&reader)
            case .endedAt: change.endedAt = try reader.null() ? nil : timestamp(&reader)
            case .disposition: change.disposition = try reader.string()
            case .answeredBy: change.answeredBy = try optionalString(&reader)
            case .talkSeconds: change.talkSeconds = Int(try reader.int64())
            case .ringSeconds: change.ringSeconds = Int(try reader.int64())
            case .matchKind: change.matchKind = try reader.string()
            case .matchConfidence: change.matchConfidence = try reader.double()
            case .candidateCount: change.candidateCount = Int(try reader.int64())
            case .matchExplanation: change.matchExplanation = try reader.string()
            case .visitorID: change.visitorID = try optionalString(&reader)
            case .sessionID: change.sessionID = try optionalString(&reader)
            case .userAgent: change.userAgent = try optionalString(&reader)
            case .firstTouch: change.firstTouch = try optionalString(&reader)
            case .lastTouch: change.lastTouch = try optionalString(&reader)
            case .journey: change.journey = try reader.string()
            case .dealerID: change.dealerID = try optionalString(&reader)
            case .isLead: change.isLead = try reader.bool()
            case .junkReason: change.junkReason = try optionalString(&reader)
            case .repeatOf: change.repeatOf = try optionalString(&reader)
            case .changedAt: change.changedAt = try timestamp(&reader)
            }
        }
        guard seen & Field.required == Field.required, reader.atEnd() else { throw JSONByteReader.Unexpected() }
        return change
    }

    private static func optionalString(_ reader: inout JSONByteReader) throws(JSONByteReader.Unexpected) -> String? {
        try reader.null() ? nil : reader.string()
    }

    /// `{"microsecondsSinceEpoch":N}`, as `Timestamp`'s synthesized `Codable` writes it.
    private static func timestamp(_ reader: inout JSONByteReader) throws(JSONByteReader.Unexpected) -> Timestamp {
        try reader.beginObject()
        guard try reader.nextKey(in: timestampKeys, expected: 0, first: true) == 0 else { throw JSONByteReader.Unexpected() }
        let microseconds = try reader.int64()
        guard try reader.nextKey(in: timestampKeys, expected: 0, first: false) == nil else { throw JSONByteReader.Unexpected() }
        return Timestamp(microsecondsSinceEpoch: microseconds)
    }
}
