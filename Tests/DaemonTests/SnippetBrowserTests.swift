import CallTrackCore
import Foundation
import Testing

/// The snippet in a real browser against the real daemon (SPEC §The snippet, issue #4).
/// Serialized: each test starts its own daemon, page server and Chromium, and two cores are all we have.
@Suite(.serialized, .enabled(if: Browser.available, "chromium or chromedriver is not installed: run scripts/setup"))
struct SnippetBrowserTests {
    static let siteNumber = "+74950000000"

    /// What the page shows after a swap: the same spelling with the national digits of `number`.
    static func swapped(_ original: String, to number: String) -> String {
        var newDigits = Array(number.filter(\.isNumber).suffix(10))
        var out = [Character]()
        for character in original.reversed() {
            if character.isNumber, let digit = newDigits.popLast() { out.append(digit) } else { out.append(character) }
        }
        return String(out.reversed())
    }

    struct Element: Decodable {
        var id: String
        var text: String
        var href: String?
        var visibility: String
        var html: String
    }

    struct State: Decodable {
        var ready: Bool
        var number: String?
        var display: String?
        var kind: String?
        var reason: String?
        var session_id: String?
        var visitor_id: String?
    }

    struct Harness: Decodable {
        var errors: [String]
        var shifts: Double
        var events: [[String: String?]]
        var windowEvents: Int
    }

    static func elements(_ browser: BrowserSession, _ selector: String) async throws -> [Element] {
        try await browser.evaluate("return __ct.texts('\(selector)');")
    }

    static func state(_ browser: BrowserSession) async throws -> State? {
        try await browser.evaluate("return window.calltrackd ? JSON.parse(JSON.stringify(window.calltrackd)) : null;")
    }

    static func harness(_ browser: BrowserSession) async throws -> Harness {
        try await browser.evaluate("return { errors: __ct.errors, shifts: __ct.shifts, events: __ct.events.map(function (e) { return { number: e.number, kind: e.kind }; }), windowEvents: __ct.windowEvents };")
    }

    static let originals: [String: String] = [
        "s1": "+7 (495) 000-00-00", "s2": "8 (495) 000-00-00", "s3": "8 495 000 00 00", "s4": "84950000000",
        "s5": "+74950000000", "s6": "+7 495 000-00-00", "s7": "8-495-000-00-00", "s8": "+7\u{a0}495\u{a0}000\u{a0}00\u{a0}00",
        "s9": "(495) 000-00-00", "s10": "Call us at 8 (495) 000-00-00, Mon–Fri.", "s11": "Since 2019 8 495 000 00 00 is open",
    ]

    @Test("every spelling of the site's number becomes the tracking number, in the page's own format")
    func spellings() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "spellings.html")
            let state = try #require(try await Self.state(browser))
            #expect(state.kind == "pool")
            // The ids the snippet made carry the time of the visit, so the store appends them to its indexes.
            let now = Date().timeIntervalSince1970
            for (id, prefix) in [(state.session_id, "s"), (state.visitor_id, "v")] {
                let made = try #require(id.flatMap { TimeOrderedID.time(of: $0, prefix: prefix) }, "\(id ?? "no id")")
                #expect(abs(made.secondsSinceEpoch - now) < 600, "\(id ?? "")")
            }
            let number = try #require(state.number)
            #expect(number.hasPrefix("+749500001") && number != Self.siteNumber)
            for element in try await Self.elements(browser, ".swap") {
                let original = try #require(Self.originals[element.id])
                #expect(element.text == Self.swapped(original, to: number), "\(element.id): \(original)")
            }
            let kept = try await Self.elements(browser, ".keep")
            #expect(kept.map(\.text) == ["+7 (495) 123-45-67", "Order 849500000001234", "2024-05-01", "Legal: 8 (495) 000-00-00", "8 (495) 000-00-00"])
            let harness = try await Self.harness(browser)
            #expect(harness.errors.isEmpty, "\(harness.errors)")
            #expect(harness.events.count == 1 && harness.events.first?["number"] == number, "the page hears the number once")
            #expect(harness.windowEvents == 1, "the event reaches window listeners too")
        }
    }

    @Test("tel: links dial the tracking number; other numbers' links are left alone")
    func telLinks() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "tel.html")
            let number = try #require(try await Self.state(browser)?.number)
            let links = try await Self.elements(browser, ".link")
            #expect(links.map(\.href) == [
                "tel:" + number, "tel:" + Self.swapped("84950000000", to: number),
                "TEL:" + Self.swapped("+7-495-000-00-00", to: number), "tel:+74951234567",
            ])
            #expect(links.map(\.text) == [
                "Call us", Self.swapped("8 (495) 000-00-00", to: number), Self.swapped("+7 495 000-00-00", to: number),
                "+7 (495) 123-45-67",
            ])
        }
    }

    @Test("a number split across inline elements is swapped digit by digit, markup kept")
    func splitAcrossSpans() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "split.html")
            let number = try #require(try await Self.state(browser)?.number)
            let national = Array(number.suffix(10)).map(String.init)
            let split = try await Self.elements(browser, ".split")
            #expect(split[0].text == Self.swapped("+7 (495) 000-00-00", to: number))
            #expect(split[0].html == "+7 (\(national[0...2].joined())) <span>\(national[3...5].joined())</span>-<b>\(national[6...7].joined())</b>-\(national[8...9].joined())")
            #expect(split[1].text == Self.swapped("8 (495) 000-00-00", to: number))
            #expect(split[1].html.contains("<span class=\"big\">\(national[3...5].joined())-\(national[6...7].joined())-\(national[8...9].joined())</span>"))
            #expect(split[1].html.contains("href=\"tel:\(number)\""))
            #expect(split[2].text == Self.swapped("8\u{a0}495\u{a0}000\u{a0}00\u{a0}00", to: number))
        }
    }

    @Test("content added 2 s after load is swapped (MutationObserver), including text rewritten in place")
    func contentAddedLater() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "later.html")
            let state = try #require(try await Self.state(browser))
            let number = try #require(state.number)
            #expect(try await browser.wait(until: "window.__lateInserted && window.__tickerSet", milliseconds: 6000))
            let added = try await Self.elements(browser, ".added, #ticker")
            #expect(added.map(\.text) == [
                Self.swapped("Call 8 (495) 000-00-00", to: number), Self.swapped("+7 (495) 000-00-00", to: number),
                Self.swapped("8 (495) 000-00-00", to: number), Self.swapped("Hotline: +7 495 000 00 00", to: number),
            ])
            #expect(added[1].href == "tel:" + number)
            #expect(added[2].visibility == "visible")
            #expect(try await browser.wait(until: "window.__attributesSet"))
            let changed = try await Self.elements(browser, "#promo, #relinked")
            #expect(changed.first?.text == state.display, "an element marked later shows the number in the site's mask")
            #expect(changed.last?.href == "tel:" + Self.swapped("84950000000", to: number))
        }
    }

    @Test("a single-page app's new route shows the tracking number")
    func spaRouteChange() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "spa.html")
            let number = try #require(try await Self.state(browser)?.number)
            try await browser.click("#to-contacts")
            #expect(try await browser.wait(until: "window.__rendered === '/contacts'"))
            let routed = try await Self.elements(browser, ".routed")
            #expect(routed.map(\.text) == [Self.swapped("Sales: 8 (495) 000-00-00", to: number), "call"])
            #expect(routed.last?.href == "tel:" + Self.swapped("84950000000", to: number))
            let path: String = try await browser.evaluate("return location.pathname;")
            #expect(path == "/contacts")
            let state = try #require(try await Self.state(browser))
            #expect(state.number == number, "a route change is not a new visit")
        }
    }

    @Test("daemon down or its API unreachable: the page keeps its own number, shown after the timeout, nothing thrown")
    func daemonDown() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            for page in ["down-api.html", "down-script.html"] {
                try await lab.load(browser, page, waitFor: "getComputedStyle(document.getElementById('d2')).visibility === 'visible' && performance.now() > 1600")
                let own = try await Self.elements(browser, ".own")
                #expect(own.map(\.text).prefix(2) == ["Call 8 (495) 000-00-00", "+7 (495) 000-00-00"], "\(page)")
                #expect(own.allSatisfy { $0.visibility == "visible" }, "\(page)")
                #expect(own.count < 3 || own[2].href == "tel:+74950000000")
                #expect(try await Self.harness(browser).errors.isEmpty, "\(page)")
                #expect(try await Self.state(browser)?.ready != true, "\(page)")
            }
        }
    }

    @Test("the daemon answers an error: the page keeps its number and the error is counted by the daemon")
    func daemonErrorIsCountedNotThrown() async throws {
        try await SnippetLab.with { lab in
            let before = Self.counter("calltrackd_snippet_errors_total", in: try await lab.metrics())
            let browser = try await lab.browser()
            try await lab.load(browser, "unknown-site.html", waitFor: "getComputedStyle(document.getElementById('d2')).visibility === 'visible'")
            let own = try await Self.elements(browser, ".own")
            #expect(own.map(\.text) == ["Call 8 (495) 000-00-00", "+7 (495) 000-00-00"])
            #expect(try await Self.harness(browser).errors.isEmpty)
            // The report is a beacon: wait until the daemon has counted it.
            var after = before
            for _ in 0..<100 where after <= before {
                after = Self.counter("calltrackd_snippet_errors_total", in: try await lab.metrics())
                if after <= before { try await Task.sleep(for: .milliseconds(50)) } // no event to wait on across processes
            }
            #expect(after == before + 1)
        }
    }

    @Test("a crawler's user agent (HeadlessChrome) gets the default number, never a pool number")
    func botUserAgent() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser(userAgent: nil)
            let agent: String = try await browser.evaluate("return navigator.userAgent;")
            #expect(agent.contains("HeadlessChrome"))
            try await lab.load(browser, "spellings.html")
            let state = try #require(try await Self.state(browser))
            #expect(state.kind == "fallback" && state.reason == "bot" && state.number == Self.siteNumber)
            for element in try await Self.elements(browser, ".swap") {
                #expect(element.text == Self.originals[element.id])
            }
        }
    }

    @Test("two tabs of one visitor show the same number; another visitor gets another")
    func twoTabsOneVisitor() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "demo.html")
            let first = try #require(try await Self.state(browser))
            _ = try await browser.newTab()
            try await lab.load(browser, "spellings.html")
            let second = try #require(try await Self.state(browser))
            #expect(first.kind == "pool" && second.kind == "pool")
            #expect(second.number == first.number && second.session_id == first.session_id && second.visitor_id == first.visitor_id)
            let stranger = try await lab.browser()
            try await lab.load(stranger, "demo.html")
            let other = try #require(try await Self.state(stranger))
            #expect(other.kind == "pool" && other.number != first.number && other.visitor_id != first.visitor_id)
        }
    }

    @Test("Do-Not-Track with respect_dnt: the default number and no ids stored in the browser")
    func doNotTrack() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser(preferences: ["enable_do_not_track": true])
            try await lab.load(browser, "spellings.html")
            let dnt: String? = try await browser.evaluate("return navigator.doNotTrack;")
            #expect(dnt == "1")
            let state = try #require(try await Self.state(browser))
            #expect(state.kind == "fallback" && state.reason == "dnt" && state.number == Self.siteNumber)
            let stored: [String] = try await browser.evaluate(
                "return [document.cookie].concat(Object.keys(localStorage)).filter(function (k) { return k; });")
            #expect(stored.isEmpty, "\(stored)")
        }
    }

    @Test("lease_on interaction: the default number until the visitor clicks, then a pool number")
    func leaseOnInteraction() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "lazy.html")
            let before = try #require(try await Self.state(browser))
            #expect(before.kind == "fallback" && before.reason == "interaction_required" && before.number == Self.siteNumber)
            #expect(try await Self.elements(browser, ".lazy").first?.text == "Call 8 (495) 000-00-00")
            try await browser.click("#touch")
            #expect(try await browser.wait(until: "calltrackd.kind === 'pool'"))
            let after = try #require(try await Self.state(browser))
            let number = try #require(after.number)
            #expect(number.hasPrefix("+749500002"))
            #expect(try await Self.elements(browser, ".lazy").first?.text == Self.swapped("Call 8 (495) 000-00-00", to: number))
            #expect(try await Self.harness(browser).events.map { $0["kind"] } == ["fallback", "pool"])
        }
    }

    static func counter(_ name: String, in metrics: String) -> Int {
        metrics.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? 0) } ?? 0
    }
}

extension SnippetBrowserTests {
    @Test("keepalive: a visible page pings its session and keeps its number")
    func keepalive() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "demo.html")
            let number = try #require(try await Self.state(browser)?.number)
            let before = Self.counter("calltrackd_leases_touched_total", in: try await lab.metrics())
            // ping_interval_s is 5 in the lab's config.
            #expect(try await browser.wait(
                until: "__ct.fetches.some(function (f) { return /\\/ping$/.test(f.url) && f.status === 200; })", milliseconds: 9000))
            #expect(Self.counter("calltrackd_leases_touched_total", in: try await lab.metrics()) > before)
            #expect(try await Self.state(browser)?.number == number)
            #expect(try await Self.harness(browser).events.count == 1, "the same number is not announced twice")
        }
    }

    /// Writes docs/snippet-before.png and docs/snippet-after.png when CALLTRACKD_SCREENSHOTS names a folder.
    @Test("demo page screenshots, before and after the snippet",
          .enabled(if: ProcessInfo.processInfo.environment["CALLTRACKD_SCREENSHOTS"] != nil, "set CALLTRACKD_SCREENSHOTS=docs to write them"))
    func screenshots() async throws {
        let folder = ProcessInfo.processInfo.environment["CALLTRACKD_SCREENSHOTS"] ?? "."
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await browser.open("\(lab.pages)/demo.html?daemon=down")
            try await browser.wait(until: "document.readyState === 'complete'")
            try await browser.screenshot().write(to: URL(fileURLWithPath: "\(folder)/snippet-before.png"))
            try await lab.load(browser, "demo.html")
            let state = try #require(try await Self.state(browser))
            #expect(state.kind == "pool")
            try await browser.screenshot().write(to: URL(fileURLWithPath: "\(folder)/snippet-after.png"))
        }
    }
}

extension SnippetBrowserTests {
    @Test("a lease that expired (ping answered 404) is asked for again, and the visitor keeps its number")
    func expiredLeaseIsRenewed() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "spellings.html?site=brief")
            let first = try #require(try await Self.state(browser))
            // `brief` leases idle out after 2 s; the 5 s ping finds none, and the snippet asks again.
            #expect(try await browser.wait(until: "__ct.fetches.filter(function (f) { return /sessions$/.test(f.url) && f.status === 200; }).length === 2", milliseconds: 12000))
            let fetches: [String] = try await browser.evaluate(
                "return __ct.fetches.map(function (f) { return f.url.replace(/^.*\\/v1\\//, '') + ' ' + f.status; });")
            #expect(fetches == ["sessions 200", "sessions/\(try #require(first.session_id))/ping 404", "sessions 200"])
            let second = try #require(try await Self.state(browser))
            #expect(second.kind == "pool" && second.number == first.number && second.session_id == first.session_id,
                    "the visitor's previous number is free for it again (stickiness)")
            let number = try #require(second.number)
            for element in try await Self.elements(browser, ".swap") {
                #expect(element.text == Self.swapped(try #require(Self.originals[element.id]), to: number), "\(element.id)")
            }
            #expect(try await Self.harness(browser).errors.isEmpty)
        }
    }

    @Test("a hidden tab stops pinging (one beacon marks when the visitor left) and pings again when it comes back")
    func hiddenTabStopsPinging() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "demo.html")
            let first = try await browser.currentTab()
            _ = try await browser.newTab()
            try await browser.open("\(lab.pages)/tel.html?daemon=down")
            // Stay away longer than ping_interval_s (5 s): the page is given 7 s to misbehave.
            let _: Bool? = try? await browser.wait(until: "false", milliseconds: 7000)
            try await browser.switchTo(tab: first)
            #expect(try await browser.wait(until: "__ct.visibility.length >= 2 && __ct.fetches.some(function (f) { return /ping$/.test(f.url) && f.at > __ct.visibility[1].at; })"))
            struct Timeline: Decodable {
                struct Change: Decodable { var state: String; var at: Double }
                struct Call: Decodable { var url: String; var at: Double }
                var visibility: [Change]
                var fetches: [Call]
                var beacons: [Call]
            }
            let timeline: Timeline = try await browser.evaluate("return { visibility: __ct.visibility, fetches: __ct.fetches, beacons: __ct.beacons };")
            let hidden = try #require(timeline.visibility.first { $0.state == "hidden" })
            let shown = try #require(timeline.visibility.first { $0.state == "visible" && $0.at > hidden.at })
            #expect(shown.at - hidden.at > 5000, "the tab was hidden longer than the ping interval")
            #expect(!timeline.fetches.contains { $0.at > hidden.at && $0.at < shown.at }, "no pings while hidden")
            #expect(timeline.beacons.filter { $0.url.hasSuffix("/ping") && $0.at >= hidden.at && $0.at < shown.at }.count == 1)
            #expect(timeline.fetches.contains { $0.url.hasSuffix("/ping") && $0.at >= shown.at }, "back in view: a ping at once")
        }
    }
}

extension SnippetBrowserTests {
    @Test("a page on an origin the site does not list gets no number (CORS) and keeps its own, silently")
    func foreignOriginIsRefused() async throws {
        try await SnippetLab.with { lab in
            let before = Self.counter("calltrackd_rejected_origins_total", in: try await lab.metrics())
            let browser = try await lab.browser()
            // Same pages, other origin: http://localhost:<port> is not in site.acme.origins.
            try await browser.open(lab.pages.replacingOccurrences(of: "127.0.0.1", with: "localhost") + "/spellings.html")
            #expect(try await browser.wait(until: "__ct.fetches.length > 0 && __ct.fetches[0].status === 0"))
            for element in try await Self.elements(browser, ".swap") {
                #expect(element.text == Self.originals[element.id])
            }
            #expect(try await Self.harness(browser).errors.isEmpty)
            #expect(try await Self.state(browser)?.ready == false)
            #expect(Self.counter("calltrackd_rejected_origins_total", in: try await lab.metrics()) == before + 1)
        }
    }

    @Test("lease_on interaction with interaction_seconds: a visitor who only reads gets a pool number after N s visible")
    func leaseAfterVisibleSeconds() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "spellings.html?site=dwell")
            let before = try #require(try await Self.state(browser))
            #expect(before.kind == "fallback" && before.reason == "interaction_required")
            #expect(try await browser.wait(until: "calltrackd.kind === 'pool'"))
            let times: [Double] = try await browser.evaluate("return __ct.eventTimes;")
            #expect(times.count == 2)
            #expect(times.count == 2 && times[1] - times[0] >= 2000, "not before 2 s visible: \(times)")
            let number = try #require(try await Self.state(browser)?.number)
            #expect(number.hasPrefix("+749500004"))
            #expect(try await Self.elements(browser, "#s2").first?.text == Self.swapped("8 (495) 000-00-00", to: number))
        }
    }

    @Test("one visit spans pages; a click from a new campaign starts a new session of the same visitor")
    func sessionsFollowCampaigns() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            var seen: [State] = []
            for query in ["utm_source=google&utm_campaign=pumps", "", "utm_source=google&utm_campaign=pumps", "utm_source=yandex&utm_campaign=valves"] {
                try await lab.load(browser, "spellings.html" + (query.isEmpty ? "" : "?" + query))
                seen.append(try #require(try await Self.state(browser)))
            }
            #expect(Set(seen.map(\.visitor_id)).count == 1)
            #expect(seen[0].session_id == seen[1].session_id && seen[1].session_id == seen[2].session_id,
                    "inner pages and the landing page again are the same visit")
            #expect(seen[3].session_id != seen[0].session_id, "a new campaign is a new visit")
            // The snippet makes ids time first (TimeOrderedID): the later visit's id sorts after the first one's.
            let started = Timestamp(microsecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1e6)) - .seconds(600)
            let first = try #require(seen[0].session_id.flatMap { TimeOrderedID.time(of: $0, prefix: "s") })
            let later = try #require(seen[3].session_id.flatMap { TimeOrderedID.time(of: $0, prefix: "s") })
            #expect(first > started && first <= later && seen[0].session_id! < seen[3].session_id!)
            let visitor = try #require(seen[0].visitor_id.flatMap { TimeOrderedID.time(of: $0, prefix: "v") })
            #expect(visitor > started && visitor <= first, "the visitor is made just before its first visit")
            #expect(seen.allSatisfy { $0.kind == "pool" })
            #expect(Set(seen.prefix(3).map(\.number)).count == 1, "one visit, one number")
        }
    }
}
