// Test harness loaded before the snippet: records what a page owner would notice, for the browser tests to read.
window.__ct = { errors: [], shifts: 0, shiftNodes: [], events: [], windowEvents: 0 };
window.addEventListener('error', function (e) { __ct.errors.push(String(e.message) + ' @ ' + e.filename + ':' + e.lineno); });
window.addEventListener('unhandledrejection', function (e) {
  __ct.errors.push('unhandled rejection: ' + (e.reason && e.reason.message || e.reason));
});
document.addEventListener('calltrackd:number', function (e) { __ct.events.push(e.detail); __ct.eventTimes.push(performance.now()); });
__ct.eventTimes = [];
window.addEventListener('calltrackd:number', function () { __ct.windowEvents++; });
try {
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (entry) {
      if (entry.hadRecentInput) return;
      __ct.shifts += entry.value;
      (entry.sources || []).forEach(function (s) {
        var n = s.node, el = n && n.nodeType === 3 ? n.parentNode : n;
        __ct.shiftNodes.push(!n ? '?' : (el.id || el.className || el.nodeName) + (n.nodeType === 3 ? ' text "' + n.data.slice(0, 40) + '" after ' + (n.previousSibling && n.previousSibling.id) : ''));
      });
    });
  }).observe({ type: 'layout-shift', buffered: true });
} catch (e) { __ct.noLayoutShiftAPI = true; }
// Resolves (through WebDriver's async callback) when check() is truthy or after ms.
__ct.waitFor = function (check, ms, done) {
  var end = Date.now() + ms;
  (function poll() {
    var value;
    try { value = check(); } catch (e) { value = undefined; }
    if (value || Date.now() > end) done(JSON.stringify({ ok: !!value }));
    else setTimeout(poll, 20);
  })();
};
__ct.texts = function (selector) {
  return Array.prototype.map.call(document.querySelectorAll(selector), function (el) {
    return { id: el.id, text: el.textContent, href: el.getAttribute('href'), visibility: getComputedStyle(el).visibility,
      html: el.innerHTML };
  });
};
// Every fetch the page (the snippet) makes, with its answer's status (0: it failed).
__ct.fetches = [];
(function (original) {
  window.fetch = function (url) {
    var entry = { url: String(url), status: null, at: performance.now() };
    __ct.fetches.push(entry);
    return original.apply(this, arguments).then(function (r) { entry.status = r.status; return r; },
      function (e) { entry.status = 0; throw e; });
  };
})(window.fetch);
// Beacons and visibility changes, with their times, to see what the snippet does while the tab is hidden.
__ct.beacons = [];
__ct.visibility = [];
if (navigator.sendBeacon) {
  (function (original) {
    navigator.sendBeacon = function (url) {
      __ct.beacons.push({ url: String(url), at: performance.now() });
      return original.apply(navigator, arguments);
    };
  })(navigator.sendBeacon);
}
document.addEventListener('visibilitychange', function () {
  __ct.visibility.push({ state: document.visibilityState, at: performance.now() });
});
