/// Which events the decoder hands on; the rest are skipped before any message is built.
///
/// `VarSet` is about half of all AMI traffic and `Newexten` a fifth; the call assembler needs
/// neither except a few variables, so a filter keeps `VarSet` only for the variables named.
/// Responses (no `Event` header) are always kept.
public struct AMIMessageFilter: Sendable, Equatable {
    /// Lowercased event names kept; nil keeps every event.
    let events: [[UInt8]]?
    /// Variable names (without `_`/`__` inheritance prefixes, lowercased) whose `VarSet` is kept.
    let variables: [[UInt8]]?

    /// Keeps everything.
    public static let all = AMIMessageFilter(events: nil, varSetVariables: nil)

    /// `events`: names kept (nil: all). `varSetVariables`: when `VarSet` is kept, only these variables.
    public init(events: [String]?, varSetVariables: [String]? = nil) {
        self.events = events.map { $0.map { Array($0.lowercased().utf8) } }
        self.variables = varSetVariables.map { $0.map { Array($0.lowercased().drop { $0 == "_" }.utf8) } }
    }

    func keepsEvent(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let events else { return true }
        return events.contains { matchesLowercased(name, $0) }
    }

    func keepsVariable(_ name: UnsafeRawBufferPointer) -> Bool {
        guard let variables else { return true }
        var start = 0
        while start < name.count, name[start] == UInt8(ascii: "_") { start += 1 }
        let bare = UnsafeRawBufferPointer(rebasing: name[start...])
        return variables.contains { matchesLowercased(bare, $0) }
    }

    var filtersVariables: Bool { variables != nil }
}

/// ASCII case-insensitive equality of raw bytes with an already lowercased name.
@inline(__always)
func matchesLowercased(_ bytes: UnsafeRawBufferPointer, _ lowercased: [UInt8]) -> Bool {
    guard bytes.count == lowercased.count else { return false }
    for index in 0..<bytes.count where asciiLowercased(bytes[index]) != lowercased[index] { return false }
    return true
}
