import Foundation
import Yams

/// The dotted keys a YAML config file sets (`http: {port: 8080}` → `http.port`); a list is one value.
enum ConfigFileKeys {
    static func dotted(inYAMLAt path: String) throws(ConfigProblem) -> [String] {
        let node: Any?
        do {
            node = try Yams.load(yaml: try String(contentsOfFile: path, encoding: .utf8))
        } catch {
            throw ConfigProblem(key: "--config", "cannot read \(path): \(error); check the path and the YAML syntax")
        }
        var keys: [String] = []
        collect(node, prefix: nil, into: &keys)
        return keys
    }

    private static func collect(_ node: Any?, prefix: String?, into keys: inout [String]) {
        guard let mapping = node as? [AnyHashable: Any] else {
            if let prefix { keys.append(prefix) }
            return
        }
        if mapping.isEmpty, let prefix { keys.append(prefix) }
        for (name, value) in mapping {
            let name = "\(name.base)"
            collect(value, prefix: prefix.map { "\($0).\(name)" } ?? name, into: &keys)
        }
    }
}
