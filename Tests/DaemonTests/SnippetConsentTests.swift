import Foundation
import Testing
import TestSupport

extension SnippetBrowserTests {
    static let storedInBrowser = "return [document.cookie].concat(Object.keys(localStorage)).filter(function (k) { return k; });"

    @Test("data-consent=\"required\": no cookie, no storage and no request for a number until the banner consents; then a pool number; withdrawn, the ids are forgotten")
    func consentRequired() async throws {
        try await SnippetLab.with { lab in
            let browser = try await lab.browser()
            try await lab.load(browser, "consent.html",
                               waitFor: "window.calltrackd && calltrackd.consented === false && getComputedStyle(document.getElementById('c1')).visibility === 'visible'")
            // Before consent: the page's own number, shown at once (not hidden waiting for an answer), nothing asked or stored.
            #expect(try await Self.elements(browser, "#c1").first?.text == "Call 8 (495) 000-00-00")
            let asked: [String] = try await browser.evaluate("return __ct.fetches.map(function (f) { return f.url; });")
            #expect(!asked.contains { $0.contains("/v1/sessions") }, "\(asked)")
            let before: [String] = try await browser.evaluate(Self.storedInBrowser)
            #expect(before.isEmpty, "\(before)")
            #expect(try #require(try await Self.state(browser)).kind == nil)

            try await browser.click("#accept")
            #expect(try await browser.wait(until: "calltrackd.kind === 'pool'"))
            let number = try #require(try await Self.state(browser)?.number)
            #expect(try await Self.elements(browser, "#c1").first?.text == Self.swapped("Call 8 (495) 000-00-00", to: number))
            let stored: String = try await browser.evaluate("return document.cookie;")
            #expect(stored.contains("_ct_vid="), "\(stored)")

            try await browser.click("#withdraw")
            #expect(try await browser.wait(until: "calltrackd.consented === false && document.cookie.indexOf('_ct_vid=') < 0"))
            let after: [String] = try await browser.evaluate(Self.storedInBrowser)
            #expect(after.isEmpty, "\(after)")
            #expect(try await Self.harness(browser).errors.isEmpty)
        }
    }
}
