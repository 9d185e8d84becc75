/// The `agi_*` block Asterisk sends when a channel runs `AGI(agi://host:port/script,arg1,…)`, in order.
///
/// FastAGI opens with `agi_network: yes` and `agi_network_script: <script>`, then the channel's
/// environment (res_agi.c `setup_env`), then an empty line:
/// ```
/// agi_network: yes
/// agi_network_script: route
/// agi_request: agi://127.0.0.1:4573/route
/// agi_channel: PJSIP/trunk-00000012
/// agi_uniqueid: 1733650000.42
/// agi_callerid: +74951234567
/// agi_dnid: 74950000001
/// agi_extension: 74950000001
/// agi_arg_1: 1733650000.42
///
/// ```
public struct AGIEnvironment: Sendable, Equatable {
    /// Every `key: value` line as sent (keys without their `agi_` prefix are kept as they are).
    public private(set) var fields: [(key: String, value: String)] = []

    public init() {}

    public init(_ fields: [(String, String)]) {
        for (key, value) in fields { append(key: key, value: value) }
    }

    public mutating func append(key: String, value: String) { fields.append((key, value)) }

    public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    public static func == (lhs: AGIEnvironment, rhs: AGIEnvironment) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.key == $1.key && $0.value == $1.value }
    }

    /// Asterisk writes `unknown` for a value the channel does not have (res_agi.c `S_OR(…, "unknown")`).
    func known(_ key: String) -> String? {
        guard let value = self[key], !value.isEmpty, value != "unknown" else { return nil }
        return value
    }

    /// The script part of the URL (`route` in `agi://127.0.0.1:4573/route?x=1`).
    public var script: String? {
        if let script = known("agi_network_script") { return String(script.prefix { $0 != "?" }) }
        guard let request = known("agi_request"), let scheme = request.firstRange(of: "://") else { return nil }
        let rest = request[scheme.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return nil }
        return String(rest[rest.index(after: slash)...].prefix { $0 != "?" })
    }

    public var uniqueID: String? { known("agi_uniqueid") }
    public var channel: String? { known("agi_channel") }
    public var callerID: String? { known("agi_callerid") }
    public var callerIDName: String? { known("agi_calleridname") }
    /// The number the caller dialled as the trunk delivered it.
    public var dnid: String? { known("agi_dnid") }
    public var extensionName: String? { known("agi_extension") }
    public var context: String? { known("agi_context") }

    /// `agi_arg_1`, `agi_arg_2`, … in order.
    public var arguments: [String] {
        var arguments: [String] = []
        while let value = self["agi_arg_\(arguments.count + 1)"] { arguments.append(value) }
        return arguments
    }
}
