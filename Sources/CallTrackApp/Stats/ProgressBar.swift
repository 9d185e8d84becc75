import Foundation

/// A one-line progress bar on standard error for long terminal jobs; silent when standard error is not a terminal.
public struct ProgressBar: Sendable {
    let enabled: Bool

    public init(enabled: Bool) { self.enabled = enabled }

    public func show(_ share: Double) {
        guard enabled else { return }
        let width = 40, filled = Int((min(max(share, 0), 1) * Double(width)).rounded())
        let line = "\r[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] " + String(format: "%3.0f%%", share * 100)
        FileHandle.standardError.write(Data(line.utf8))
    }

    public func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
