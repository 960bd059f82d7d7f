/* pimedia: spatial focus for TV remotes. ES5 only: webOS 3 runs Chromium 38
   and one newer token would stop the whole script. */
(function () {
  'use strict';
  var KEYS = { 37: 'left', 38: 'up', 39: 'right', 40: 'down' };
  /* Back on webOS (461) and Tizen (10009), Esc, and Backspace outside text. */
  var BACK_KEYS = { 461: true, 10009: true, 27: true, 8: true };
  var SELECTOR = 'a[href], button, input, select, textarea, video, [tabindex]';

  /* Parts for the phone (managing files) are never in the remote's path. */
  function forRemote(el) {
    for (var p = el; p && p.getAttribute; p = p.parentNode) {
      if (p.hasAttribute('data-no-remote')) { return false; }
    }
    return true;
  }

  function visible(el) {
    if (el.disabled || el.getAttribute('tabindex') === '-1' || el.type === 'hidden' || !forRemote(el)) {
      return false;
    }
    var r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }

  function focusables() {
    var all = document.querySelectorAll(SELECTOR);
    var out = [];
    for (var i = 0; i < all.length; i++) {
      if (visible(all[i])) {
        out.push(all[i]);
      }
    }
    return out;
  }

  /* Distance from rect a to rect b going in dir, or -1 when b is not that way. */
  function score(a, b, dir) {
    var ax = (a.left + a.right) / 2;
    var ay = (a.top + a.bottom) / 2;
    var bx = (b.left + b.right) / 2;
    var by = (b.top + b.bottom) / 2;
    var main;
    var cross;
    /* Left and right stay in the row: at its end, focus stays put rather
       than jumping to something far away on another line. */
    var sameRow = b.top < a.bottom && b.bottom > a.top;
    if (dir === 'left') {
      main = a.left - b.right;
      cross = by - ay;
      if (bx >= ax || !sameRow) { return -1; }
    } else if (dir === 'right') {
      main = b.left - a.right;
      cross = by - ay;
      if (bx <= ax || !sameRow) { return -1; }
    } else if (dir === 'up') {
      main = a.top - b.bottom;
      cross = bx - ax;
      if (by >= ay) { return -1; }
    } else {
      main = b.top - a.bottom;
      cross = bx - ax;
      if (by <= ay) { return -1; }
    }
    if (main < 0) { main = 0; }
    /* Staying in the same row or column matters more than raw distance. */
    return main + Math.abs(cross) * 2;
  }

  function move(dir) {
    var cur = document.activeElement;
    var list = focusables();
    if (!list.length) { return false; }
    if (!cur || cur === document.body || list.indexOf(cur) < 0) {
      focusFirst();
      return true;
    }
    var from = cur.getBoundingClientRect();
    var best = null;
    var bestScore = Infinity;
    for (var i = 0; i < list.length; i++) {
      if (list[i] === cur) { continue; }
      var s = score(from, list[i].getBoundingClientRect(), dir);
      if (s >= 0 && s < bestScore) {
        bestScore = s;
        best = list[i];
      }
    }
    if (best) {
      best.focus();
      if (best.scrollIntoView) {
        var r = best.getBoundingClientRect();
        if (r.top < 0 || r.bottom > window.innerHeight) {
          best.scrollIntoView(r.top < 0);
        }
      }
    }
    return true;
  }

  function focusFirst() {
    var first = document.querySelector('[autofocus]') || document.querySelector('.tile') ||
      document.querySelector('main a[href], main button, main video');
    if (first) { first.focus(); }
  }

  function isTextField(el) {
    return el && (el.tagName === 'TEXTAREA' ||
      (el.tagName === 'INPUT' && /^(text|search|password|number)$/.test(el.type)));
  }

  /* Leaves the page the way its Back link does (the player saves its
     position first: see window.pimedia.beforeLeave). */
  function goBack() {
    /* A page may take Back for itself first (the player's countdown). */
    if (window.pimedia && window.pimedia.onBack && window.pimedia.onBack()) { return; }
    if (window.pimedia && window.pimedia.beforeLeave) { window.pimedia.beforeLeave(); }
    var back = document.getElementById('back');
    if (back) { window.location.href = back.href; } else { window.history.back(); }
  }

  document.addEventListener('keydown', function (e) {
    var el = document.activeElement;
    var dir = KEYS[e.keyCode];
    if (BACK_KEYS[e.keyCode]) {
      /* Backspace and Esc belong to a text field; the remote's Back never does. */
      if ((e.keyCode === 8 || e.keyCode === 27) && isTextField(el)) { return; }
      goBack();
      e.preventDefault();
      return;
    }
    if (!dir || e.altKey || e.ctrlKey || e.metaKey) { return; }
    /* Text fields keep left/right for the caret; the player seeks with them. */
    if ((isTextField(el) || (el && el.tagName === 'VIDEO')) && (dir === 'left' || dir === 'right')) {
      return;
    }
    if (move(dir)) { e.preventDefault(); }
  });

  /* A JSON request; done(status, parsed answer or null). */
  function send(method, url, body, done) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Accept', 'application/json');
    if (body) { xhr.setRequestHeader('Content-Type', 'application/json'); }
    xhr.onload = function () {
      var data = null;
      try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
      if (done) { done(xhr.status, data); }
    };
    xhr.send(body ? JSON.stringify(body) : null);
  }

  function remembered(key, value) {
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode, or no storage: report again next time */ }
    return null;
  }

  /* What this browser says it plays, for the questions pimedia asks. */
  function answers(codecs) {
    var v = document.createElement('video');
    var ms = window.MediaSource || window.WebKitMediaSource;
    var plays = {};
    var mse = {};
    for (var i = 0; i < codecs.length; i++) {
      plays[codecs[i].key] = v.canPlayType ? v.canPlayType(codecs[i].mime) : '';
      if (ms && ms.isTypeSupported) { mse[codecs[i].key] = !!ms.isTypeSupported(codecs[i].mime); }
    }
    var ratio = window.devicePixelRatio || 1;
    return {
      plays: plays,
      mse: mse,
      screen: [Math.round(screen.width * ratio), Math.round(screen.height * ratio)],
      player: !!document.getElementById('player')
    };
  }

  /* Once a day each browser tells pimedia what it plays: the TVs that
     watch decide what the library is converted to (see /devices). */
  function report() {
    var now = new Date().getTime();
    var last = parseInt(remembered('pimedia.reported'), 10);
    if (last && now - last < 86400000) { return; }
    send('GET', '/api/devices/me', null, function (status, me) {
      if (status !== 200 || !me) { return; }
      if (!me.due) { remembered('pimedia.reported', String(now)); return; }
      send('POST', '/api/devices/me', answers(me.codecs), function (s) {
        if (s === 200) { remembered('pimedia.reported', String(now)); }
      });
    });
  }

  window.pimedia = { move: move, focusFirst: focusFirst, send: send };
  report();
  if (!document.activeElement || document.activeElement === document.body) {
    focusFirst();
  }
})();
