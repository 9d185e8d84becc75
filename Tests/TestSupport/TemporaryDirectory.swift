import Foundation

/// A fresh directory under the system temp dir, removed by `remove()` (tests run in parallel: never share paths).
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(_ label: String = "calltrackd") {
        let base = FileManager.default.temporaryDirectory.path
        path = "\(base)/\(label)-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    public func file(_ name: String) -> String { "\(path)/\(name)" }

    public func remove() { try? FileManager.default.removeItem(atPath: path) }
}
