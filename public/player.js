/* pimedia player: resume on any device, start over, fullscreen, subtitles,
   remote keys on the video. ES5 only. */
(function () {
  'use strict';
  var video = document.getElementById('player');
  if (!video) { return; }
  /* Failed before this script ran (a dropped connection is quick): no
     source left and nothing loaded. Looked at before anything here
     loads another source, which passes through the same state. */
  var failedEarly = video.error || (video.networkState === 3 && video.readyState === 0);
  var fsButton = document.getElementById('fullscreen');
  var startOver = document.getElementById('start-over');
  var subsButton = document.getElementById('subtitles');
  var positionUrl = video.getAttribute('data-position-url');
  var resume = parseFloat(video.getAttribute('data-resume')) || 0;
  var lastSaved = 0;

  function enterFullscreen() {
    var el = video;
    if (el.requestFullscreen) { el.requestFullscreen(); }
    else if (el.webkitRequestFullscreen) { el.webkitRequestFullscreen(); }
    else if (el.webkitEnterFullscreen) { el.webkitEnterFullscreen(); }
    else if (el.mozRequestFullScreen) { el.mozRequestFullScreen(); }
  }
  if (fsButton) { fsButton.addEventListener('click', enterFullscreen); }

  /* Positions are saved at least every 10 s, on pause and when leaving. */
  function body() {
    return JSON.stringify({ position: video.currentTime, duration: isFinite(video.duration) ? video.duration : null });
  }
  function save() {
    if (!positionUrl || !(video.currentTime > 0)) { return; }
    lastSaved = new Date().getTime();
    var xhr = new XMLHttpRequest();
    xhr.open('PUT', positionUrl);
    xhr.setRequestHeader('Content-Type', 'application/json');
    xhr.send(body());
  }
  /* Leaving: a beacon, or where there is none (webOS 3, Chromium 38) a
     synchronous request, which an asynchronous one would not outlive. */
  function saveOnLeave() {
    if (!positionUrl || !(video.currentTime > 0)) { return; }
    if (navigator.sendBeacon) {
      navigator.sendBeacon(positionUrl, body());
      return;
    }
    try {
      var xhr = new XMLHttpRequest();
      xhr.open('PUT', positionUrl, false);
      xhr.setRequestHeader('Content-Type', 'application/json');
      xhr.send(body());
    } catch (e) { /* newer browsers refuse it while unloading: they have beacons */ }
  }
  video.addEventListener('timeupdate', function () {
    if (new Date().getTime() - lastSaved >= 10000) { save(); }
  });
  video.addEventListener('pause', save);
  video.addEventListener('ended', save);
  window.addEventListener('pagehide', saveOnLeave);
  window.addEventListener('beforeunload', saveOnLeave);
  /* The Back button and the remote's Back save before the page goes. */
  if (window.pimedia) { window.pimedia.beforeLeave = saveOnLeave; }
  var backLink = document.getElementById('back');
  if (backLink) { backLink.addEventListener('click', saveOnLeave); }

  /* Resume where it was left, with a way back to the beginning. */
  if (resume > 5) {
    var seek = function () {
      if (!video.duration || resume < video.duration - 5) { video.currentTime = resume; }
    };
    if (video.readyState >= 1) { seek(); } else { video.addEventListener('loadedmetadata', seek); }
    if (startOver) {
      startOver.hidden = false;
      startOver.addEventListener('click', function () {
        video.currentTime = 0;
        startOver.hidden = true;
        video.play();
        video.focus();
      });
    }
  }

  /* What was chosen before on this device (its own storage: one per TV
     or phone): with profiles, the person's own, and until they choose,
     what the device chose before it had profiles. */
  var person = document.body.getAttribute('data-profile');
  function remembered(key, value) {
    var own = person ? 'pimedia.p' + person + '.' + key : 'pimedia.' + key;
    try {
      if (value === undefined) {
        var chosen = window.localStorage.getItem(own);
        return chosen === null && person ? window.localStorage.getItem('pimedia.' + key) : chosen;
      }
      window.localStorage.setItem(own, value);
    } catch (e) { /* private mode: the choice lasts this page */ }
    return null;
  }

  /* Subtitles: track `index` showing, or none for -1. */
  function showTrack(index) {
    for (var i = 0; video.textTracks && i < video.textTracks.length; i++) {
      video.textTracks[i].mode = i === index ? 'showing' : 'hidden';
    }
  }
  function showSubtitles(on) {
    showTrack(on ? 0 : -1);
    if (subsButton) {
      subsButton.setAttribute('aria-pressed', on ? 'true' : 'false');
      subsButton.textContent = on ? 'Subtitles on' : 'Subtitles off';
    }
  }
  if (subsButton && video.textTracks) {
    showSubtitles(remembered('subtitles') !== 'off');
    subsButton.addEventListener('click', function () {
      var on = subsButton.getAttribute('aria-pressed') !== 'true';
      showSubtitles(on);
      remembered('subtitles', on ? 'on' : 'off');
    });
  }
  /* More than one: a choice by language ("English", "Deutsch", "Off"),
     remembered and taken again where the next video has that language. */
  var choices = document.querySelectorAll('.sub-choice');
  function choose(button) {
    for (var i = 0; i < choices.length; i++) {
      choices[i].setAttribute('aria-pressed', choices[i] === button ? 'true' : 'false');
    }
    showTrack(parseInt(button.getAttribute('data-track'), 10));
  }
  if (choices.length) {
    var wanted = remembered('subtitle-language');
    var first = choices[0];
    for (var c = 0; c < choices.length; c++) {
      var lang = choices[c].getAttribute('data-lang') || 'off';
      if (wanted && lang === wanted) { first = choices[c]; }
      choices[c].addEventListener('click', function (e) {
        choose(e.currentTarget);
        remembered('subtitle-language', e.currentTarget.getAttribute('data-lang') || 'off');
      });
    }
    choose(first);
  }
  /* Where the video is, through reloads (an error resets currentTime). */
  var lastTime = resume > 5 ? resume : 0;
  var wantsToPlay = true;
  video.addEventListener('timeupdate', function () {
    if (video.currentTime > 0) { lastTime = video.currentTime; }
  });
  video.addEventListener('play', function () { wantsToPlay = true; });
  video.addEventListener('pause', function () { if (!video.seeking) { wantsToPlay = false; } });

  /* Plays `src` from `at` seconds (a language, a quality, a retry). */
  var reloading = false;
  function playFrom(src, at, loaded) {
    var playing = wantsToPlay;
    reloading = true;
    var there = function () {
      video.removeEventListener('loadedmetadata', there);
      reloading = false;
      if (loaded) { loaded(); }
      if (at > 0) { video.currentTime = at; }
      if (playing) {
        var p = video.play();
        if (p && p.then) { p.then(null, function () {}); }
      }
    };
    video.addEventListener('loadedmetadata', there);
    video.src = src;
    video.load();
  }
  function currentSource() {
    if (video.currentSrc) { return video.currentSrc; }
    var s = video.querySelector('source');
    return s ? s.src : video.src;
  }

  /* Audio languages: browsers play an MP4's first track only, so another
     language plays a version of the file with that track first (made by
     pimedia in seconds), from the same second. Remembered like subtitles. */
  var audioChoices = document.querySelectorAll('.audio-choice');
  var switchingAudio = false;
  /* Smaller versions carry the first language only: Auto leaves another alone. */
  var otherAudio = false;
  function playAudio(button) {
    if (button.getAttribute('aria-pressed') === 'true') { return; }
    otherAudio = button !== audioChoices[0];
    for (var i = 0; i < audioChoices.length; i++) {
      audioChoices[i].setAttribute('aria-pressed', audioChoices[i] === button ? 'true' : 'false');
    }
    switchingAudio = true;
    button.setAttribute('aria-busy', 'true');
    playFrom(button.getAttribute('data-src'), video.currentTime, function () {
      switchingAudio = false;
      button.removeAttribute('aria-busy');
    });
  }
  if (audioChoices.length) {
    var wantedAudio = remembered('audio-language');
    for (var a = 0; a < audioChoices.length; a++) {
      audioChoices[a].addEventListener('click', function (e) {
        remembered('audio-language', e.currentTarget.getAttribute('data-lang'));
        playAudio(e.currentTarget);
      });
      if (a > 0 && wantedAudio && audioChoices[a].getAttribute('data-lang') === wantedAudio) {
        playAudio(audioChoices[a]);
      }
    }
  }

  /* Text size for the sofa: small, normal, large, remembered. */
  var sizeButton = document.getElementById('sub-size');
  var SIZES = ['small', 'normal', 'large'];
  function setSize(size) {
    for (var i = 0; i < SIZES.length; i++) {
      video.className = video.className.replace(new RegExp('\\s*subs-' + SIZES[i], 'g'), '');
    }
    if (size !== 'normal') { video.className += ' subs-' + size; }
    if (sizeButton) {
      sizeButton.setAttribute('data-size', size);
      sizeButton.textContent = 'Text: ' + size;
    }
  }
  if (sizeButton) {
    var saved = remembered('subtitle-size');
    setSize(saved === 'small' || saved === 'large' ? saved : 'normal');
    sizeButton.addEventListener('click', function () {
      var now = SIZES.indexOf(sizeButton.getAttribute('data-size'));
      var size = SIZES[(now + 1) % SIZES.length];
      setSize(size);
      remembered('subtitle-size', size);
    });
  }

  /* A browser that won't start sound by itself (WebKit until a tap, and
     Chromium without a gesture) gets a big Play button, not an error. */
  var tap = document.getElementById('tap-to-play');
  function askForTap() {
    if (!tap || !video.paused) { return; }
    tap.hidden = false;
    tap.focus();
  }
  if (tap) {
    tap.addEventListener('click', function () {
      tap.hidden = true;
      var p = video.play();
      if (p && p.then) { p.then(null, askForTap); }
      video.focus();
    });
    video.addEventListener('play', function () { tap.hidden = true; });
  }
  var started = video.play();
  if (started && started.then) {
    started.then(null, function (e) {
      if (e && e.name === 'NotAllowedError') { askForTap(); }
    });
  }

  /* The next episode: offered near the end, played 10 s after it ends
     unless Back, Stop or Cancel says no. */
  var nextUp = document.getElementById('next-up');
  var countdown = null;
  function cancelNext() {
    if (!nextUp) { return; }
    if (countdown) { clearInterval(countdown); }
    countdown = null;
    nextUp.hidden = true;
    nextUp.setAttribute('data-cancelled', 'true');
    video.focus();
  }
  if (nextUp) {
    var nextPlay = document.getElementById('next-play');
    var nextCount = document.getElementById('next-count');
    var offer = function () {
      if (nextUp.hidden && !nextUp.hasAttribute('data-cancelled')) { nextUp.hidden = false; }
    };
    video.addEventListener('timeupdate', function () {
      if (isFinite(video.duration) && video.duration - video.currentTime <= 30) { offer(); }
    });
    video.addEventListener('ended', function () {
      if (countdown || nextUp.hasAttribute('data-cancelled')) { return; }
      offer();
      var left = 10;
      var tick = function () {
        nextCount.textContent = 'in ' + left + ' s';
        if (left <= 0) {
          clearInterval(countdown);
          window.location.href = nextPlay.href;
        }
        left--;
      };
      tick();
      countdown = setInterval(tick, 1000);
      nextPlay.focus();
    });
    document.getElementById('next-cancel').addEventListener('click', cancelNext);
    nextPlay.addEventListener('click', saveOnLeave);
    /* The remote's Back ends the countdown before it leaves the page. */
    if (window.pimedia) {
      window.pimedia.onBack = function () {
        if (!countdown) { return false; }
        cancelNext();
        return true;
      };
    }
  }

  /* The remote: left/right seek 10 s, Enter plays or pauses. */
  video.addEventListener('keydown', function (e) {
    if (e.keyCode === 37 || e.keyCode === 39) {
      var t = video.currentTime + (e.keyCode === 37 ? -10 : 10);
      video.currentTime = Math.max(0, Math.min(t, video.duration || t));
      e.preventDefault();
    } else if (e.keyCode === 13) {
      if (video.paused) { video.play(); } else { video.pause(); }
      e.preventDefault();
    }
  });

  /* A video this browser can't play (an error, or sound with no picture):
     pimedia marks this device as not playing that kind of video and makes
     a TV version; the page says so and follows it until it is ready. */
  var cannot = document.getElementById('cannot-play');
  var told = false;
  function say(text, href, label) {
    if (!cannot) { return; }
    cannot.textContent = text + ' ';
    if (href) {
      var a = document.createElement('a');
      a.href = href;
      a.className = 'button';
      a.textContent = label;
      cannot.appendChild(a);
      a.focus();
    }
    cannot.hidden = false;
  }
  function minutes(secs) {
    var m = Math.max(1, Math.round(secs / 60));
    return 'about ' + m + (m === 1 ? ' minute' : ' minutes') + ' left';
  }
  function follow(id, message) {
    window.pimedia.send('GET', '/api/jobs', null, function (status, jobs) {
      var job = null;
      for (var i = 0; jobs && i < jobs.length; i++) {
        if (jobs[i].id === id) { job = jobs[i]; }
      }
      if (!job) { return; }
      if (job.state === 'done' && job.output) {
        var parts = job.output.split('/');
        for (var k = 0; k < parts.length; k++) { parts[k] = encodeURIComponent(parts[k]); }
        say('The TV version is ready.', '/watch/' + parts.join('/'), 'Play it');
        return;
      }
      if (job.state === 'failed' || job.state === 'cancelled') {
        say('The TV version could not be made: ' + (job.error || job.state) + '.');
        return;
      }
      var where = job.state === 'running'
        ? Math.round(job.progress) + '% done' + (job.eta_secs ? ', ' + minutes(job.eta_secs) : '') + '.'
        : 'It starts when the conversions before it are done.';
      say(message + ' ' + where + ' Come back to this video when it is ready.');
      setTimeout(function () { follow(id, message); }, 3000);
    });
  }
  function cannotPlay() {
    if (switchingAudio) {
      switchingAudio = false;
      say('That language could not be played here; the others still can.');
      return;
    }
    var path = video.getAttribute('data-path');
    if (told || !path || !window.pimedia) { return; }
    told = true;
    window.pimedia.send('POST', '/api/devices/me', { failed: path, player: true }, function (status, r) {
      if (status !== 200 || !r) { return; }
      say(r.message);
      if (r.job) { follow(r.job.id, r.message); }
    });
  }
  /* A dropped connection is not a codec this TV lacks: it is tried
     again from the same second, later each time, and marks nothing. */
  var connection = document.getElementById('connection');
  var retries = 0;
  var retryTimer = null;
  function retryLater() {
    if (retryTimer) { return; }
    if (connection) {
      connection.textContent = 'Connection lost — trying again';
      connection.hidden = false;
    }
    var wait = Math.min(10000, 1000 * Math.pow(2, retries));
    retries++;
    retryTimer = setTimeout(function () {
      retryTimer = null;
      playFrom(currentSource(), lastTime);
    }, wait);
  }
  video.addEventListener('playing', function () {
    retries = 0;
    if (connection) { connection.hidden = true; }
  });
  /* "Not supported" also ends a load whose connection dropped: a fresh
     request with the network up tells the two apart, and the file is
     tried once more before the device is marked. */
  var triedAgain = false;
  function unsupported() {
    var src = currentSource();
    var xhr = new XMLHttpRequest();
    xhr.open('GET', src);
    xhr.setRequestHeader('Range', 'bytes=0-1');
    xhr.timeout = 15000;
    xhr.onload = function () {
      if (xhr.status !== 200 && xhr.status !== 206) { retryLater(); return; }
      if (!triedAgain) {
        triedAgain = true;
        playFrom(src, lastTime);
        return;
      }
      cannotPlay();
    };
    xhr.onerror = retryLater;
    xhr.ontimeout = retryLater;
    xhr.send();
  }
  function failedWith(code, onSource) {
    if (code === 3) {
      cannotPlay();
    } else if (code === 2) {
      retryLater();
    } else if (code === 4 || (onSource && video.networkState === 3)) {
      unsupported();
    }
  }
  /* A <source> that fails fires its error on itself, seen here by capture. */
  video.addEventListener('error', function (e) {
    failedWith(video.error && video.error.code, e.target !== video);
  }, true);
  if (failedEarly && !video.hasAttribute('src')) {
    failedWith(video.error ? video.error.code : 0, true);
  }
  video.addEventListener('loadedmetadata', function () {
    if (video.hasAttribute('data-has-video') && !video.videoWidth) { cannotPlay(); }
  });

  /* The remote's media keys, wherever the focus is. */
  var MEDIA_KEYS = { 415: 'play', 19: 'pause', 179: 'toggle', 413: 'stop', 417: 'forward', 412: 'rewind' };
  document.addEventListener('keydown', function (e) {
    var what = MEDIA_KEYS[e.keyCode];
    if (!what) { return; }
    if (what === 'play' || (what === 'toggle' && video.paused)) {
      video.play();
    } else if (what === 'pause' || what === 'toggle') {
      video.pause();
    } else if (what === 'stop' && countdown) {
      cancelNext();
    } else if (what === 'stop') {
      /* Stop ends watching: saved where it was, back to the list. */
      video.pause();
      saveOnLeave();
      if (backLink) { window.location.href = backLink.href; }
    } else {
      var to = video.currentTime + (what === 'forward' ? 30 : -10);
      video.currentTime = Math.max(0, Math.min(to, video.duration || to));
    }
    e.preventDefault();
  });

  /* Quality: Auto starts on the TV version and moves to the largest
     smaller version the link carries when it can't carry this one (it
     stalls, or fills the buffer slower than it plays); or a version
     chosen here. Remembered by this device. */
  var qualityButtons = document.querySelectorAll('.quality-choice');
  var qualityLine = document.getElementById('quality-line');
  var qualities = [];
  var quality = 'auto';
  var playingNow = null;
  for (var qi = 0; qi < qualityButtons.length; qi++) {
    var qb = qualityButtons[qi];
    if (qb.getAttribute('data-src')) {
      qualities.push({
        name: qb.getAttribute('data-quality'),
        src: qb.getAttribute('data-src'),
        bitrate: parseInt(qb.getAttribute('data-bitrate'), 10) || 0
      });
    }
  }
  playingNow = qualities[0] || null;
  function byName(name) {
    for (var i = 0; i < qualities.length; i++) {
      if (qualities[i].name === name) { return qualities[i]; }
    }
    return null;
  }
  function pressQuality(name) {
    for (var i = 0; i < qualityButtons.length; i++) {
      var b = qualityButtons[i];
      b.setAttribute('aria-pressed', b.getAttribute('data-quality') === name ? 'true' : 'false');
    }
  }
  function sayQuality(text) {
    if (!qualityLine) { return; }
    qualityLine.textContent = text;
    qualityLine.hidden = !text;
  }
  function moveTo(q, why) {
    if (!q || q === playingNow) { return; }
    playingNow = q;
    samples = [];
    playFrom(q.src, lastTime);
    sayQuality(q.name === 'original' ? '' : q.name + (why ? ' — ' + why : ''));
  }
  /* The buffer's end, sampled each second while playing: media seconds
     fetched per second tells the rate the link carries. */
  var samples = [];
  var stalledSince = 0;
  function bufferedEnd() {
    var b = video.buffered;
    for (var i = 0; b && i < b.length; i++) {
      if (b.start(i) <= video.currentTime + 0.5 && b.end(i) >= video.currentTime) { return b.end(i); }
    }
    return video.currentTime;
  }
  function slowLink(ratio) {
    var rate = Math.max(0.05, ratio) * playingNow.bitrate;
    var pick = null;
    for (var i = 0; i < qualities.length; i++) {
      var q = qualities[i];
      if (q.bitrate < playingNow.bitrate && (!pick || q.bitrate > pick.bitrate) && q.bitrate <= rate * 0.8) { pick = q; }
    }
    if (!pick) {
      for (var k = 0; k < qualities.length; k++) {
        if (qualities[k].bitrate < playingNow.bitrate && (!pick || qualities[k].bitrate < pick.bitrate)) { pick = qualities[k]; }
      }
    }
    moveTo(pick, 'the connection is slow');
  }
  function sample() {
    if (quality !== 'auto' || otherAudio || !playingNow || reloading || retryTimer || (video.paused && !stalledSince)) { return; }
    var now = new Date().getTime() / 1000;
    samples.push({ t: now, end: bufferedEnd() });
    if (samples.length > 8) { samples.shift(); }
    if (samples.length < 2) { return; }
    var first = samples[0];
    var last = samples[samples.length - 1];
    var ratio = (last.end - first.end) / (last.t - first.t);
    var ahead = last.end - video.currentTime;
    var atEnd = isFinite(video.duration) && last.end >= video.duration - 1;
    if (atEnd) { return; }
    if (stalledSince && now - stalledSince >= 2) {
      slowLink(samples.length >= 3 ? ratio : 0.5);
    } else if (samples.length >= 6 && ahead < 8 && ratio < 0.9) {
      slowLink(ratio);
    }
  }
  if (qualities.length > 1) {
    setInterval(sample, 1000);
    video.addEventListener('waiting', function () {
      if (video.currentTime > 0 && !reloading) { stalledSince = new Date().getTime() / 1000; }
    });
    video.addEventListener('playing', function () { stalledSince = 0; });
    var chooseQuality = function (name, remember) {
      quality = name;
      pressQuality(name);
      if (remember) { remembered('quality', name); }
      if (name === 'auto') { sayQuality(''); return; }
      moveTo(byName(name), '');
    };
    for (var qc = 0; qc < qualityButtons.length; qc++) {
      qualityButtons[qc].addEventListener('click', function (e) {
        chooseQuality(e.currentTarget.getAttribute('data-quality'), true);
      });
    }
    var wantedQuality = remembered('quality');
    if (wantedQuality && wantedQuality !== 'auto' && byName(wantedQuality) && !otherAudio) {
      chooseQuality(wantedQuality, false);
    }
  }

  /* Versions being made (Download): their progress, then their link. */
  var making = document.querySelectorAll('.downloads li[data-job]');
  function followVersions() {
    window.pimedia.send('GET', '/api/jobs', null, function (status, jobs) {
      var again = false;
      for (var i = 0; i < making.length; i++) {
        var li = making[i];
        var id = parseInt(li.getAttribute('data-job'), 10);
        var job = null;
        for (var k = 0; jobs && k < jobs.length; k++) {
          if (jobs[k].id === id) { job = jobs[k]; }
        }
        if (!job || li.hasAttribute('data-ended')) { continue; }
        var state = li.querySelector('.status');
        if (job.state === 'done') {
          li.setAttribute('data-ended', 'true');
          var label = li.querySelector('.label');
          var link = document.createElement('a');
          link.href = li.getAttribute('data-href');
          link.setAttribute('download', '');
          link.textContent = label ? label.textContent : 'Download';
          if (label) { li.replaceChild(link, label); }
          state.textContent = 'Ready';
        } else if (job.state === 'not_needed') {
          li.setAttribute('data-ended', 'true');
          state.textContent = 'Not needed: ' + job.error + '.';
        } else if (job.state === 'failed' || job.state === 'cancelled') {
          li.setAttribute('data-ended', 'true');
          state.textContent = 'Could not be made: ' + (job.error || job.state) + '.';
        } else {
          state.textContent = job.state === 'running'
            ? 'Being made: ' + Math.round(job.progress) + ' %'
            : 'Waiting for its turn';
          again = true;
        }
      }
      if (again) { setTimeout(followVersions, 3000); }
    });
  }
  if (making.length && window.pimedia) { followVersions(); }

  video.setAttribute('tabindex', '0');
  video.focus();
})();
