import Foundation
import Hummingbird
import HummingbirdTesting

/// Plain HTTP/1.1 on loopback through Hummingbird's NIO test client (Foundation's URLSession on Linux
/// refuses chromedriver's `Content-Length:883` headers, written without a space).
enum LoopbackHTTP {
    static func request(_ base: String, _ method: HTTPRequest.Method, _ path: String, body: Data? = nil) async throws -> (status: Int, body: Data) {
        let url = URL(string: base)!
        let host = url.host ?? "127.0.0.1", port = url.port ?? 80
        return try await TestClient.withClient(host: host, port: port, configuration: .init(timeout: .seconds(60))) { client in
            var headers: HTTPFields = [:]
            if body != nil { headers[.contentType] = "application/json" }
            let response = try await client.execute(.init(
                path, method: method, authority: "\(host):\(port)", headers: headers, body: body.map { ByteBuffer(bytes: $0) }))
            return (response.status.code, response.body.map { Data($0.readableBytesView) } ?? Data())
        }
    }
}

/// A minimal W3C WebDriver client for chromedriver: just what the snippet tests use.
struct WebDriver: Sendable {
    let base: String

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One command; returns the raw `value` of the answer as JSON data.
    func call(_ method: String, _ path: String, _ body: [String: any Sendable]? = nil) async throws -> Data {
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let (status, data) = try await LoopbackHTTP.request(base, HTTPRequest.Method(method)!, path, body: payload)
        guard status == 200 else {
            throw Failure(description: "WebDriver \(method) \(path) answered \(status): \(String(decoding: data.prefix(600), as: UTF8.self))")
        }
        guard let object = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) as? [String: Any],
              let value = object["value"] else {
            throw Failure(description: "WebDriver \(method) \(path): no value in \(String(decoding: data.prefix(300), as: UTF8.self))")
        }
        if value is NSNull { return Data("null".utf8) }
        return try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed])
    }

    /// A new Chromium: headless, its own throwaway profile, the given user agent and preferences.
    func newSession(userAgent: String?, preferences: [String: any Sendable] = [:], profile: String) async throws -> BrowserSession {
        var args = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-extensions", "--disable-background-networking", "--window-size=1100,860",
            "--user-data-dir=\(profile)",
        ]
        if let userAgent { args.append("--user-agent=\(userAgent)") }
        let options: [String: any Sendable] = ["binary": Browser.chromium ?? "chromium", "args": args, "prefs": preferences]
        let capabilities: [String: any Sendable] = [
            "alwaysMatch": ["browserName": "chrome", "goog:chromeOptions": options] as [String: any Sendable]
        ]
        let data = try await call("POST", "/session", ["capabilities": capabilities])
        struct Created: Decodable { var sessionId: String }
        let created = try JSONDecoder().decode(Created.self, from: data)
        let session = BrowserSession(driver: self, id: created.sessionId)
        _ = try await session.command("POST", "/timeouts", ["script": 30_000, "pageLoad": 30_000])
        return session
    }
}

/// One browser window set (tabs share cookies and storage, like a person's browser).
struct BrowserSession: Sendable {
    let driver: WebDriver
    let id: String

    func command(_ method: String, _ path: String, _ body: [String: any Sendable]? = nil) async throws -> Data {
        try await driver.call(method, "/session/\(id)\(path)", body)
    }

    func open(_ url: String) async throws {
        _ = try await command("POST", "/url", ["url": url])
    }

    /// Runs `body` as a function in the page; the script returns a value that is decoded as `T`.
    func evaluate<T: Decodable>(_ body: String, as type: T.Type = T.self) async throws -> T {
        let data = try await command("POST", "/execute/sync", ["script": body, "args": [String]()])
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Waits in the page (not here) until `condition` is true or `milliseconds` pass; true when it held.
    @discardableResult
    func wait(until condition: String, milliseconds: Int = 15000) async throws -> Bool {
        let script = "__ct.waitFor(function () { return (\(condition)); }, \(milliseconds), arguments[arguments.length - 1]);"
        let data = try await command("POST", "/execute/async", ["script": script, "args": [String]()])
        struct Outcome: Decodable { var ok: Bool }
        let text = try JSONDecoder().decode(String.self, from: data)
        return try JSONDecoder().decode(Outcome.self, from: Data(text.utf8)).ok
    }

    /// A trusted click (the page sees a real user gesture), as a visitor's.
    func click(_ selector: String) async throws {
        let data = try await command("POST", "/element", ["using": "css selector", "value": selector])
        let element = try JSONDecoder().decode([String: String].self, from: data)
        guard let elementID = element.values.first else { throw WebDriver.Failure(description: "no element \(selector)") }
        _ = try await command("POST", "/element/\(elementID)/click", [:])
    }

    /// Opens a new tab and switches to it; returns its handle.
    func newTab() async throws -> String {
        let data = try await command("POST", "/window/new", ["type": "tab"])
        struct Window: Decodable { var handle: String }
        let handle = try JSONDecoder().decode(Window.self, from: data).handle
        _ = try await command("POST", "/window", ["handle": handle])
        return handle
    }

    func currentTab() async throws -> String {
        try JSONDecoder().decode(String.self, from: try await command("GET", "/window"))
    }

    func switchTo(tab handle: String) async throws {
        _ = try await command("POST", "/window", ["handle": handle])
    }

    func screenshot() async throws -> Data {
        let data = try await command("GET", "/screenshot")
        let base64 = try JSONDecoder().decode(String.self, from: data)
        return Data(base64Encoded: base64) ?? Data()
    }

    func quit() async {
        _ = try? await command("DELETE", "")
    }
}

/// Where the browser and its driver live; the tests skip only when they are truly missing.
enum Browser {
    static let chromium = firstExecutable(["chromium", "chromium-browser", "google-chrome"])
    static let chromedriver = firstExecutable(["chromedriver"])
    static var available: Bool { chromium != nil && chromedriver != nil }

    /// A desktop browser's user agent: the daemon treats `HeadlessChrome` as a bot.
    static let desktopUserAgent =
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"

    static func firstExecutable(_ names: [String]) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for name in names {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return nil
    }
}
