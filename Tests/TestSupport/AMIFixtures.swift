import Foundation

/// The recorded AMI transcripts in `Tests/Fixtures/ami` and their ground truth.
///
/// Read from the repository itself (`<repo>/Tests/Fixtures/ami`), or from `$CALLTRACKD_FIXTURES/ami`
/// when that is set. A missing folder is one clear error naming the path, never an empty list of
/// cases that passes by testing nothing.
public enum AMIFixtures {
    public static var directory: URL {
        if let root = ProcessInfo.processInfo.environment["CALLTRACKD_FIXTURES"], !root.isEmpty {
            return URL(fileURLWithPath: root).appendingPathComponent("ami")
        }
        // <repo>/Tests/TestSupport/AMIFixtures.swift -> <repo>/Tests/Fixtures/ami
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/ami")
    }

    /// Every transcript, as `01-answered` or `sip-agents/01-answered`; empty if the folder is missing
    /// (`FixtureAssemblyTests.fixturesFound` then fails with the path).
    public static var names: [String] {
        let fm = FileManager.default
        var names: [String] = []
        for folder in ["", "sip-agents/"] {
            let url = directory.appendingPathComponent(folder)
            let files = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
            names += files.filter { $0.hasSuffix(".ami") }.map { folder + String($0.dropLast(4)) }
        }
        return names.sorted()
    }

    public struct Missing: Error, CustomStringConvertible {
        public let path: String
        public var description: String {
            "AMI fixture \(path) is missing: the transcripts live in Tests/Fixtures/ami of the repository (or set CALLTRACKD_FIXTURES)"
        }
    }

    public static func load(_ name: String) throws -> AMIFixture {
        let base = directory.appendingPathComponent(name)
        let amiURL = base.appendingPathExtension("ami")
        guard FileManager.default.fileExists(atPath: amiURL.path) else { throw Missing(path: amiURL.path) }
        let bytes = try [UInt8](Data(contentsOf: amiURL))
        let expectURL = URL(fileURLWithPath: base.path + ".expect.json")
        let expectation = try JSONDecoder().decode(AMIExpectation.self, from: Data(contentsOf: expectURL))
        let timingURL = URL(fileURLWithPath: base.path + ".timing.tsv")
        let timing = (try? String(contentsOf: timingURL, encoding: .utf8)).map(AMIFixture.parseTiming)
        return AMIFixture(name: name, bytes: bytes, expectation: expectation, timing: timing)
    }
}

public struct AMIFixture: Sendable {
    public let name: String
    /// Every byte Asterisk sent, banner first.
    public let bytes: [UInt8]
    public let expectation: AMIExpectation
    /// When each received chunk arrived, in seconds since connect (sip-agents only).
    public let timing: [Chunk]?

    public struct Chunk: Sendable {
        public let offset: Int
        public let length: Int
        public let seconds: Double
    }

    /// The bytes after the recorded login reply (and the `Challenge` before it): what a fake
    /// Asterisk replays once it has done the login exchange itself. Nil if the login failed.
    public var bytesAfterLogin: [UInt8]? {
        let marker = Array("Message: Authentication accepted".utf8)
        guard let found = bytes.firstRange(of: marker) else { return nil }
        var index = found.upperBound
        // the blank line ending the reply
        while index + 1 < bytes.count {
            if bytes[index] == 0x0A, bytes[index + 1] == 0x0A { return Array(bytes[(index + 2)...]) }
            if bytes[index] == 0x0A, index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A {
                return Array(bytes[(index + 3)...])
            }
            index += 1
        }
        return []
    }

    static func parseTiming(_ text: String) -> [Chunk] {
        text.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#") else { return nil }
            let parts = line.split(separator: "\t")
            guard parts.count >= 3, let offset = Int(parts[0]), let length = Int(parts[1]), let seconds = Double(parts[2]) else { return nil }
            return Chunk(offset: offset, length: length, seconds: seconds)
        }
    }
}

/// `NAME.expect.json`: what a correct call tracker concludes from the transcript.
public struct AMIExpectation: Decodable, Sendable {
    public let calls: [ExpectedCall]
    public let defaultCountry: String?
    public let approxRingSeconds: Double?
    public let approxTalkSeconds: Double?

    public struct ExpectedCall: Decodable, Sendable {
        public let linkedid: String
        public let expect: Expect
    }

    public struct Expect: Decodable, Sendable {
        public let trackingNumber: String?
        public let callerE164: String?
        public let callerWithheld: Bool
        /// `answered | no_answer | busy | failed | abandoned_in_queue`
        public let outcome: String
        public let answeredBy: String?
        public let transferredTo: String?

        enum CodingKeys: String, CodingKey {
            case trackingNumber = "tracking_number", callerE164 = "caller_e164", callerWithheld = "caller_withheld"
            case outcome, answeredBy = "answered_by", transferredTo = "transferred_to"
        }
    }

    enum CodingKeys: String, CodingKey {
        case calls, defaultCountry = "default_country", approxRingSeconds = "approx_ring_s", approxTalkSeconds = "approx_talk_s"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        calls = try container.decode([ExpectedCall].self, forKey: .calls)
        defaultCountry = try container.decodeIfPresent(String.self, forKey: .defaultCountry)
        // Some files hold a list or a note here instead of one number: those have no single figure.
        approxRingSeconds = try? container.decodeIfPresent(Double.self, forKey: .approxRingSeconds)
        approxTalkSeconds = try? container.decodeIfPresent(Double.self, forKey: .approxTalkSeconds)
    }
}
