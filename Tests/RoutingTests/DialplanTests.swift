import AGI
import CallTrackApp
import CallTrackCore
import FastAGI
import Foundation
import Testing
import TestSupport

/// `asterisk/calltrackd-routing.conf.sample` checked without an Asterisk: its syntax as far as the
/// dialplan's own rules go, and that the variables calltrackd sets are exactly those it reads.
@Suite("The routing dialplan")
struct DialplanTests {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../asterisk/calltrackd-routing.conf.sample").standardized.path

    struct Dialplan {
        var contexts: [String: [String]] = [:]
        var order: [String] = []
    }

    static func parse() throws -> Dialplan {
        var plan = Dialplan()
        var current: String?
        for (number, raw) in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?
                .trimmingCharacters(in: .whitespaces) ?? ""
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                #expect(line.hasSuffix("]"), "line \(number + 1): a context header is [name]")
                current = String(line.dropFirst().dropLast())
                plan.order.append(current!)
                continue
            }
            let context = try #require(current, "line \(number + 1) is outside any context")
            #expect(line.hasPrefix("exten =>") || line.hasPrefix("same =>"), "line \(number + 1): \(line)")
            #expect(line.filter { $0 == "(" }.count == line.filter { $0 == ")" }.count, "line \(number + 1): unbalanced parentheses")
            #expect(line.filter { $0 == "{" }.count == line.filter { $0 == "}" }.count, "line \(number + 1): unbalanced braces")
            #expect(line.components(separatedBy: "$[").count - 1 <= line.filter { $0 == "]" }.count, "line \(number + 1): unclosed $[")
            plan.contexts[context, default: []].append(line)
        }
        return plan
    }

    /// `${NAME}` and `${NAME_${…}}` reads, and `Set(NAME=…)` writes (leading `_`/`__` inheritance dropped).
    static func reads(_ lines: [String]) -> Set<String> {
        var names: Set<String> = []
        for line in lines {
            var rest = Substring(line)
            while let start = rest.range(of: "${") {
                let name = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
                if rest[start.upperBound...].dropFirst(name.count).hasPrefix("${") { names.insert(name + "${n}") } else { names.insert(String(name)) }
                rest = rest[start.upperBound...]
            }
        }
        return names
    }

    static func writes(_ lines: [String]) -> Set<String> {
        var names: Set<String> = []
        for line in lines {
            var rest = Substring(line)
            while let start = rest.range(of: "Set(") {
                let name = rest[start.upperBound...].prefix { $0 != "=" && $0 != ")" }
                names.insert(String(name.drop { $0 == "_" }))
                rest = rest[start.upperBound...]
            }
        }
        return names
    }

    /// The names calltrackd sets for a dealer with failover (three targets), as a session sends them.
    static func daemonVariables() async throws -> Set<String> {
        let desk = RoutingDesk(routes: try RoutingWorld.table())
        let answer = await RoutingWorld.router(desk).answer(AGIEnvironment([
            ("agi_uniqueid", "1.2"), ("agi_callerid", "+74951234567"), ("agi_dnid", "74950000001"),
        ]))
        #expect(answer.variables.count == 6)
        return Set(answer.variables.map { $0.name.hasPrefix("CT_DIAL_") && Int($0.name.dropFirst(8)) != nil ? "CT_DIAL_${n}" : $0.name })
    }

    @Test("every line is an exten or same in a context, with balanced brackets; every Goto target context exists")
    func syntax() throws {
        let plan = try Self.parse()
        #expect(plan.order == ["calltrackd-route", "calltrackd-fallback"])
        for line in plan.contexts.values.joined() {
            if let goto = line.range(of: "Goto(") , !line[goto.upperBound...].hasPrefix("$") {
                let target = line[goto.upperBound...].prefix { $0 != "," && $0 != ")" }
                if line[goto.upperBound...].contains(",") { #expect(plan.contexts[String(target)] != nil, "Goto to unknown context \(target)") }
            }
        }
        // Labels a GotoIf jumps to are defined: `n(label)`.
        let lines = plan.contexts["calltrackd-route"]!
        let labels = Set(lines.compactMap { line -> String? in
            guard let open = line.range(of: "n(") else { return nil }
            return String(line[open.upperBound...].prefix { $0 != ")" })
        })
        for line in lines where line.contains("GotoIf(") {
            let jump = line.split(separator: "?").last!.prefix { $0 != ")" && $0 != ":" }
            #expect(labels.contains(String(jump)), "GotoIf jumps to undefined label \(jump)")
        }
    }

    @Test("the variables calltrackd sets are the ones the dialplan reads, and it reads none calltrackd does not set")
    func variablesAgree() async throws {
        let plan = try Self.parse()
        let lines = Array(plan.contexts.values.joined())
        let daemon = try await Self.daemonVariables()
        let read = Self.reads(lines).filter { $0.hasPrefix("CT_") }
        let ownWrites = Self.writes(lines)
        #expect(daemon == ["CT_LEAD", "CT_DEALER", "CT_DIAL_COUNT", "CT_DIAL", "CT_DIAL_${n}"])
        for name in daemon { #expect(read.contains(name), "calltrackd sets \(name) but the dialplan never reads it") }
        for name in read where !daemon.contains(name) && !ownWrites.contains(name) && name != "CT_DID" {
            Issue.record("the dialplan reads \(name), which neither calltrackd nor the dialplan sets")
        }
        for name in ownWrites where daemon.contains(name) && !name.isEmpty {
            // Only the inherited copies (`__CT_DEALER`) may share a name with calltrackd's variables.
            #expect(lines.contains { $0.contains("Set(__\(name)=${\(name)})") }, "the dialplan overwrites \(name)")
        }
    }

    @Test("the dialplan asks the FastAGI address and script the daemon serves by default")
    func agiAddress() throws {
        let lines = Array(try Self.parse().contexts.values.joined())
        let agi = try #require(lines.first { $0.contains("AGI(agi://") })
        let defaults = FastAGIConfiguration()
        #expect(agi.contains("AGI(agi://\(defaults.host):\(defaults.port)/route,${CHANNEL(linkedid)},${CT_TRACKING})"))
    }
}
