/*! calltrackd snippet: swaps the site's phone number for a tracking number. Readable source in the calltrackd repository: Sources/HTTPAPI/SnippetSource/ct.js */
(function () {
  'use strict';
  var w = window, d = document;
  if (w.calltrackd && w.calltrackd.version) return; // included twice

  var script = d.currentScript || d.querySelector('script[data-site][src*="ct.js"]');
  var attr = name => script ? script.getAttribute('data-' + name) : null;
  var site = attr('site');
  if (!site) return;

  // A consent banner that decided before this script loaded may have set `calltrackd = { consent_given: true }`.
  var givenEarly = !!(w.calltrackd && w.calltrackd.consent_given === true);
  var state = w.calltrackd = { version: '1', site: site, ready: false, number: null, display: null, kind: null, reason: null };
  // data-consent="required": nothing is stored in the browser and no number is asked for until the site's banner
  // calls calltrackd.consent(true); until then (and after consent(false)) the page shows its own number.
  var consented = attr('consent') !== 'required' || givenEarly;
  var onConsent = null;
  state.consent = function (given) {
    try {
      var was = consented;
      consented = given === true;
      state.consented = consented;
      if (onConsent) onConsent(consented, was);
    } catch (e) { report(e); }
  };
  state.consented = consented;
  var MARK = 'calltrackd-phone', KEY = 'calltrackd.' + site + '.', YEAR = 31536000, IDLE = 1800;
  var CAMPAIGN = ['utm_source', 'utm_medium', 'utm_campaign', 'utm_content', 'utm_term', 'gclid', 'yclid', 'fbclid', 'msclkid'];
  var reports = 0;

  // Every failure is silent to the visitor and counted by the daemon (POST /v1/errors).
  function report(error) {
    try {
      if (reports++ >= 5) return;
      var body = JSON.stringify({ site: site, message: String(error && error.message || error).slice(0, 500),
        stack: error && error.stack ? String(error.stack).slice(0, 2000) : undefined, url: location.href.slice(0, 1000) });
      if (!(navigator.sendBeacon && navigator.sendBeacon(api + '/v1/errors', body))) {
        fetch(api + '/v1/errors', { method: 'POST', body: body, credentials: 'omit', keepalive: true }).catch(function () {});
      }
    } catch (ignored) { /* reporting must never throw either */ }
  }
  function guard(fn) {
    return function () { try { return fn.apply(this, arguments); } catch (e) { report(e); } };
  }
  function safe(fn, fallback) { try { return fn(); } catch (e) { return fallback; } }

  var api;
  try {
    api = (attr('api') || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  } catch (e) { return; }

  // Everything else runs inside main(): nothing it throws reaches the page.
  function main() {
    // ---- first-party ids: cookie + localStorage, visitor ~1 year, session 30 min idle ----
    function cookie(name) {
      var m = safe(() => d.cookie, '').match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
      return m ? safe(() => decodeURIComponent(m[1]), null) : null;
    }
    function setCookie(name, value, maxAge) {
      safe(function () {
        d.cookie = name + '=' + encodeURIComponent(value) + '; path=/; max-age=' + maxAge + '; SameSite=Lax' +
          (location.protocol === 'https:' ? '; Secure' : '');
      });
    }
    var store = {
      get: function (k) { return safe(() => localStorage.getItem(KEY + k), null); },
      set: function (k, v) { safe(function () { localStorage.setItem(KEY + k, v); }); },
      del: function (k) { safe(function () { localStorage.removeItem(KEY + k); }); }
    };
    function json(text) { return safe(() => JSON.parse(text), null); }
    function validId(v) { return typeof v === 'string' && /^[A-Za-z0-9_.-]{8,64}$/.test(v) ? v : null; }
    // Time first (ms, 9 base-36 digits), then 12 random digits: a new id sorts after older ones, so the
    // daemon's store appends it to its indexes (TimeOrderedID.swift makes the same shape).
    // Bytes from 252 up are skipped: 252 is the largest multiple of 36 below 256, so every digit is equally likely.
    function newId(prefix) {
      var random = '';
      while (random.length < 12) {
        var bytes = crypto.getRandomValues(new Uint8Array(16));
        for (var i = 0; i < bytes.length && random.length < 12; i++) if (bytes[i] < 252) random += (bytes[i] % 36).toString(36);
      }
      return prefix + '_' + Math.max(Date.now(), 0).toString(36).padStart(9, '0').slice(-9) + random;
    }

    var params = safe(() => new URL(location.href).searchParams, new URLSearchParams(''));
    var campaign = CAMPAIGN.map(k => params.get(k) || '').join('|');
    var saved = json(store.get('session')) || {};
    var visitorId = validId(cookie('_ct_vid')) || validId(store.get('visitor')) || newId('v');
    var sessionId = validId(cookie('_ct_sid')) ||
      (validId(saved.id) && Date.now() - saved.at < IDLE * 1000 ? saved.id : null);
    // A new campaign click starts a new session even inside the idle window; later pages keep the session's campaign.
    if (campaign.replace(/\|/g, '')) { if (sessionId && campaign !== saved.campaign) sessionId = null; }
    else if (sessionId && sessionId === saved.id) campaign = saved.campaign || campaign;
    sessionId = sessionId || newId('s');

    var dnt = navigator.doNotTrack === '1' || w.doNotTrack === '1' || navigator.globalPrivacyControl === true;
    var cached = json(store.get('config')) || {};
    // With DNT/GPC on, store nothing until the daemon says the site does not honour it.
    var quiet = dnt && cached.respect_dnt !== false;

    function persist() {
      if (quiet) return;
      setCookie('_ct_vid', visitorId, YEAR);
      setCookie('_ct_sid', sessionId, IDLE);
      store.set('visitor', visitorId);
      store.set('session', JSON.stringify({ id: sessionId, at: Date.now(), campaign: campaign }));
    }
    function forget() {
      setCookie('_ct_vid', '', 0);
      setCookie('_ct_sid', '', 0);
      ['visitor', 'session', 'config'].forEach(store.del);
    }
    if (consented) persist();

    // ---- no flicker: marked elements stay hidden until swapped or until the timeout ----
    var selectors = ['.' + MARK].concat(cached.selectors || []);
    var style = d.createElement('style');
    style.textContent = selectors.map(function (s) { return s + '{visibility:hidden!important}'; }).join('\n');
    (d.head || d.documentElement).appendChild(style);
    function reveal() { if (style.parentNode) style.parentNode.removeChild(style); }
    var hideTimer = setTimeout(reveal, consented ? +attr('hide-timeout') || cached.hide_timeout_ms || 1500 : 0);

    // ---- finding the site's number in any spelling ----
    var targets = []; // digit strings of E.164 numbers to replace
    var current = ''; // digits of the number on show
    var shown = {}; // every number this page showed: a later swap finds them too
    var CANDIDATE = /[+(]?\d[\d\s().\u00a0\u2010-\u2013-]{5,}\d/g;

    function digits(s) { return String(s).replace(/\D/g, ''); }
    function countryLength(t) {
      if (/^[17]/.test(t)) return 1;
      return /^(2[07]|3[0-469]|4[0-13-9]|5[1-8]|6[0-6]|8[1246]|9[0-58])/.test(t) ? 2 : 3;
    }
    // The digits to write for a matched spelling, keeping its own prefix (+7, 8, 0, 00); null: write the display form.
    function replacement(found) {
      for (var i = 0; i < targets.length; i++) {
        var t = targets[i], cc = countryLength(t), nsn = t.slice(cc), keep = -1, drop = 0;
        if (found === t || found === '00' + t || found === '011' + t) keep = found.length - t.length;
        else if (nsn.length >= 6 && (found === nsn || found === '8' + nsn || found === '0' + nsn)) { keep = found.length - nsn.length; drop = cc; }
        if (keep < 0) continue;
        if (current.length === t.length && current.slice(0, drop) === t.slice(0, drop)) return found.slice(0, keep) + current.slice(drop);
        return null;
      }
      return undefined; // not one of ours
    }
    function formatLike(text, newDigits) {
      var i = 0;
      return text.replace(/\d/g, () => newDigits.charAt(i++));
    }
    // Edits for one string: [{start, end, text, same}] where same means one character per character.
    // A number may start or end at a space or at an element boundary (breaks: offsets where a text node starts).
    function edits(text, breaks) {
      var out = [], m;
      CANDIDATE.lastIndex = 0;
      while ((m = CANDIDATE.exec(text))) {
        var found = m[0], cuts = [0], ends = [found.length];
        for (var k = 1; k < found.length; k++) {
          var at = breaks && breaks[m.index + k];
          if (at || (/\s/.test(found[k - 1]) && !/\s/.test(found[k]))) cuts.push(k);
          if (at || (/\s/.test(found[k]) && !/\s/.test(found[k - 1]))) ends.push(k);
        }
        ends.sort((a, b) => b - a);
        var from = 0;
        for (var c = 0; c < cuts.length; c++) {
          if (cuts[c] < from) continue;
          for (var e = 0; e < ends.length; e++) {
            if (ends[e] <= cuts[c]) break;
            var piece = found.slice(cuts[c], ends[e]), r = replacement(digits(piece));
            if (r === undefined) continue;
            var start = m.index + cuts[c];
            out.push(r === null ? { start: start, end: start + piece.length, text: state.display, same: false }
              : { start: start, end: start + piece.length, text: formatLike(piece, r), same: true });
            from = ends[e];
            break;
          }
        }
      }
      return out;
    }
    function applyEdits(text, list) {
      for (var i = list.length - 1; i >= 0; i--) text = text.slice(0, list[i].start) + list[i].text + text.slice(list[i].end);
      return text;
    }

    // ---- walking the page: text runs (a number may be split across inline elements), tel: links, marked elements ----
    var SKIP = /^(SCRIPT|STYLE|NOSCRIPT|TEXTAREA|TEMPLATE|SELECT|OPTION|IFRAME|INPUT)$/;
    var INLINE = /^(A|ABBR|B|BDI|BDO|CITE|DATA|DFN|EM|FONT|I|KBD|LABEL|MARK|Q|S|SAMP|SMALL|SPAN|STRONG|SUB|SUP|TIME|U|VAR)$/;
    function block(node) {
      var b = node.nodeType === 1 ? node : node.parentNode;
      while (b && b.parentNode && b.parentNode.nodeType === 1 && INLINE.test(b.nodeName)) b = b.parentNode;
      return b;
    }
    function ignored(el) { return !el || SKIP.test(el.nodeName) || !!(el.closest && el.closest('.calltrackd-ignore')); }

    function swapText(root) {
      var walker = d.createTreeWalker(root, NodeFilter.SHOW_TEXT), node, run = [], runBlock = null;
      function flush() {
        var text = '', breaks = {};
        run.forEach(function (n) { breaks[text.length] = true; text += n.data; });
        var list = /\d/.test(text) ? edits(text, breaks) : [];
        var offset = 0;
        run.forEach(function (n) {
          var from = offset, to = offset + n.data.length, out = '', cursor = from;
          list.forEach(function (e) {
            if (e.end <= from || e.start >= to) return;
            var s = Math.max(e.start, from), t = Math.min(e.end, to);
            out += text.slice(cursor, s) + (e.same ? e.text.slice(s - e.start, t - e.start) : (s === e.start ? e.text : ''));
            cursor = t;
          });
          out += text.slice(cursor, to);
          if (out !== n.data) n.data = out;
          offset = to;
        });
        run = [];
      }
      while ((node = walker.nextNode())) {
        if (ignored(node.parentNode)) continue;
        var b = block(node);
        if (b !== runBlock) { flush(); runBlock = b; }
        run.push(node);
      }
      flush();
    }
    // fn for root and (unless shallow) its descendants that match selector.
    function each(root, selector, fn, shallow) {
      if (root.nodeType !== 1 && root.nodeType !== 9) return;
      if (root.matches && safe(() => root.matches(selector), false)) fn(root);
      if (!shallow) safe(() => root.querySelectorAll(selector), []).forEach(fn);
    }
    function swapLinks(root, shallow) {
      each(root, 'a[href^="tel:" i]', function (a) {
        if (ignored(a)) return;
        var href = a.getAttribute('href'), list = edits(href);
        if (!list.length) return;
        var next = list[0].same ? applyEdits(href, list) : 'tel:+' + current;
        if (next !== href) a.setAttribute('href', next);
      }, shallow);
    }
    function swapMarked(root, shallow) {
      selectors.forEach(function (selector) {
        each(root, selector, function (el) {
          if (ignored(el) || digits(el.textContent).indexOf(current.slice(countryLength(current))) >= 0) return;
          var texts = [], walker = d.createTreeWalker(el, NodeFilter.SHOW_TEXT), n;
          while ((n = walker.nextNode())) if (/\S/.test(n.data)) texts.push(n);
          var holder = texts.filter(t => /\d/.test(t.data)).pop() || texts.pop();
          if (holder) holder.data = state.display; else el.textContent = state.display;
        }, shallow);
      });
    }
    function swap(root) {
      if (!current || !root) return;
      swapText(root);
      swapLinks(root);
      swapMarked(root);
      if (observer) observer.takeRecords(); // our own edits
    }

    // Content added later (MutationObserver) and SPA navigation.
    var observer = w.MutationObserver ? new MutationObserver(guard(function (records) {
      var roots = [], changed = [];
      records.forEach(function (r) {
        // A changed href or class concerns that element alone; new nodes and text concern their text block.
        if (r.type === 'attributes') { if (changed.indexOf(r.target) < 0) changed.push(r.target); return; }
        (r.type === 'childList' ? Array.prototype.slice.call(r.addedNodes) : [r.target]).forEach(function (n) {
          var b = block(n);
          if (b && roots.indexOf(b) < 0 && b.isConnected !== false) roots.push(b);
        });
      });
      roots.forEach(swap);
      changed.forEach(function (el) { swapLinks(el, true); swapMarked(el, true); });
      observer.takeRecords();
    })) : null;
    function watch() {
      if (!observer) return;
      observer.observe(d.documentElement, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['href', 'class'] });
    }
    ['pushState', 'replaceState'].forEach(function (name) {
      var original = history[name];
      if (typeof original !== 'function') return;
      history[name] = function () {
        var result = original.apply(this, arguments);
        setTimeout(guard(function () { swap(d.documentElement); }), 0);
        return result;
      };
    });
    w.addEventListener('popstate', guard(function () { swap(d.documentElement); }));

    // ---- talking to the daemon ----
    function post(path, body) {
      var abort = w.AbortController ? new AbortController() : null;
      var timer = setTimeout(function () { if (abort) abort.abort(); }, 10000);
      return fetch(api + path, { method: 'POST', body: JSON.stringify(body), credentials: 'omit', mode: 'cors', signal: abort && abort.signal })
        .then(function (response) {
          clearTimeout(timer);
          if (response.ok) return response.json();
          var error = new Error('calltrackd: ' + path + ' answered HTTP ' + response.status);
          error.status = response.status;
          throw error;
        });
    }
    function gaClientId() {
      var m = /^GA\d\.\d+\.(\d+\.\d+)$/.exec(cookie('_ga') || '');
      return m ? m[1] : null;
    }
    // GA4's session id, from the first _ga_<container-id> cookie that has one: GS1.1.<id>.<n>.… or
    // GS2.1.s<id>$o<n>$g…$t… (items in any order). Only the number is sent; the daemon checks it again.
    function gaSessionId() {
      var all = safe(() => d.cookie, '').split('; ');
      for (var i = 0; i < all.length; i++) {
        var eq = all[i].indexOf('=');
        if (!/^_ga_[A-Za-z0-9]+$/.test(all[i].slice(0, eq))) continue;
        var value = all[i].slice(eq + 1);
        var m = /^GS1\.\d+\.(\d{1,20})\./.exec(value) || /^GS2\.\d+\.(?:[^$]*\$)*?s(\d{1,20})(?:\$|$)/.exec(value);
        if (m) return m[1];
      }
      return null;
    }

    var interacted = false, asked = false, waiting = false, answer = null, pingTimer = null, lastContact = 0, dwellTimer = null, dwellLeft = 0, dwellFrom = 0;

    function allocate() {
      var body = { site: site, visitor_id: visitorId, session_id: sessionId, landing_url: location.href,
        referrer: d.referrer || null, ga_client_id: gaClientId(), ga_session_id: gaSessionId(), ym_uid: cookie('_ym_uid'), interaction: interacted, dnt: dnt };
      asked = interacted;
      CAMPAIGN.forEach(function (k) { body[k] = params.get(k); });
      return post('/v1/sessions', body).then(guard(receive), failed);
    }
    function failed(error) {
      reveal(); // the page keeps its own number
      report(error);
    }
    function receive(a) {
      if (!consented) return;  // withdrawn while the request was on its way: nothing stored, nothing shown
      if (!a || typeof a.number !== 'string') throw new Error('calltrackd: unexpected answer');
      answer = a;
      lastContact = Date.now();
      var cfg = a.site || {};
      visitorId = validId(a.visitor_id) || visitorId;
      sessionId = validId(a.session_id) || sessionId;
      quiet = dnt && (cfg.respect_dnt !== false);
      if (a.reason === 'dnt') forget();
      else {
        persist();
        if (!quiet) store.set('config', JSON.stringify({ selectors: cfg.selectors, respect_dnt: cfg.respect_dnt, hide_timeout_ms: cfg.hide_timeout_ms }));
      }
      selectors = ['.' + MARK].concat(cfg.selectors || []);
      var before = current;
      targets = (cfg.numbers || []).concat(Object.keys(shown)).map(digits).filter((t, i, all) => t && all.indexOf(t) === i);
      current = digits(a.number);
      shown['+' + current] = true;
      state.number = a.number;
      state.display = a.display || a.number;
      state.kind = a.kind;
      state.reason = a.reason || null;
      state.session_id = sessionId;
      state.visitor_id = dnt && a.reason === 'dnt' ? null : visitorId;
      swap(d.documentElement);
      if (!state.ready) { state.ready = true; state.swappedAt = w.performance ? performance.now() : 0; watch(); }
      clearTimeout(hideTimer);
      reveal();
      if (current !== before) {
        d.dispatchEvent(new CustomEvent('calltrackd:number', { bubbles: true, detail: {
          number: state.number, display: state.display, kind: state.kind, reason: state.reason, session_id: sessionId } }));
      }
      if (a.reason === 'interaction_required') awaitInteraction(a.interaction_delay_s);
      schedulePing();
    }

    // lease_on: interaction — a pool number only after a scroll, click, key press or N seconds visible.
    var INTERACTIONS = ['scroll', 'click', 'keydown', 'touchstart', 'pointerdown'];
    var onInteract = guard(function () {
      if (interacted) return;
      interacted = true;
      INTERACTIONS.forEach(function (t) { w.removeEventListener(t, onInteract, true); });
      clearTimeout(dwellTimer);
      dwellTimer = null;
      if (waiting) { waiting = false; allocate(); }
    });
    INTERACTIONS.forEach(function (t) { w.addEventListener(t, onInteract, { capture: true, passive: true }); });
    function awaitInteraction(seconds) {
      if (interacted) { if (!asked) allocate(); return; }
      waiting = true;
      dwellLeft = Math.max(0, +seconds || 0) * 1000;
      if (dwellLeft && d.visibilityState !== 'hidden') runDwell();
    }
    function runDwell() { dwellFrom = Date.now(); clearTimeout(dwellTimer); dwellTimer = setTimeout(onInteract, dwellLeft); }

    // Keepalive while visible; one beacon when the page is hidden marks when the visitor left.
    function schedulePing() {
      clearTimeout(pingTimer);
      if (!answer || !answer.expires_at || d.visibilityState === 'hidden') return;
      pingTimer = setTimeout(ping, Math.max(5, +answer.ping_interval_s || 60) * 1000);
    }
    function pingPath() { return '/v1/sessions/' + encodeURIComponent(sessionId) + '/ping'; }
    function ping() {
      post(pingPath(), { site: site, visitor_id: visitorId }).then(guard(receive), function (error) {
        if (error.status === 404) allocate(); else failed(error);
      });
    }
    d.addEventListener('visibilitychange', guard(function () {
      if (d.visibilityState === 'hidden') {
        clearTimeout(pingTimer);
        if (dwellTimer) { clearTimeout(dwellTimer); dwellTimer = null; dwellLeft -= Date.now() - dwellFrom; }
        if (answer && answer.expires_at && navigator.sendBeacon) navigator.sendBeacon(api + pingPath(), JSON.stringify({ site: site, visitor_id: visitorId }));
      } else {
        if (waiting && dwellLeft > 0) runDwell();
        if (answer && answer.expires_at) {
          if (Date.now() - lastContact >= (+answer.ping_interval_s || 60) * 1000) ping(); else schedulePing();
        }
      }
    }));

    // Consent given later: store the ids and ask for a number now. Withdrawn: the ids are forgotten and pings
    // stop (the session's lease simply expires).
    onConsent = guard(function (given, was) {
      if (given && !was) { persist(); allocate(); }
      if (!given && was) {
        forget();
        clearTimeout(pingTimer);
        answer = null;  // no more pings; the number on show stays until the visitor leaves the page
      }
    });
    if (consented) { try { allocate(); } catch (e) { failed(e); } }
  }
  try { main(); } catch (e) { report(e); }
})();
