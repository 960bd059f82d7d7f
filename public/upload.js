/* pimedia uploads: per-file progress over XMLHttpRequest; files above the
   threshold go through tus (resumable) and survive a dropped connection or a
   sleeping phone. ES5 only: no let, arrows, promises syntax or fetch. */
(function () {
  'use strict';
  var form = document.getElementById('upload-form');
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = document.getElementById('file');
  var folderInput = document.getElementById('folder');
  var list = document.getElementById('upload-list');
  var doneNote = document.getElementById('upload-done');
  var button = document.getElementById('upload-button');
  var threshold = parseInt(form.getAttribute('data-tus-threshold'), 10) || 52428800;
  var CHUNK = 8 * 1024 * 1024;
  var canTus = !!(window.Blob && Blob.prototype.slice);
  var wakeLock = null;

  function text(el, s) { el.textContent = s; }

  function b64(s) { return window.btoa(unescape(encodeURIComponent(s))); }

  function human(bytes) {
    var units = ['B', 'KB', 'MB', 'GB'];
    var i = 0;
    while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
    return bytes.toFixed(i === 0 ? 0 : 1) + ' ' + units[i];
  }

  function duration(secs) {
    if (!isFinite(secs) || secs < 0) { return ''; }
    secs = Math.round(secs);
    var m = Math.floor(secs / 60);
    var s = secs % 60;
    return m > 0 ? m + ' min ' + s + ' s' : s + ' s';
  }

  function row(file) {
    var li = document.createElement('li');
    var name = document.createElement('span');
    name.className = 'file-name';
    text(name, file.name);
    var bar = document.createElement('progress');
    bar.max = 100;
    bar.value = 0;
    var status = document.createElement('span');
    status.className = 'status';
    text(status, 'waiting');
    li.appendChild(name);
    li.appendChild(bar);
    li.appendChild(status);
    list.appendChild(li);
    return { li: li, bar: bar, status: status, started: 0, total: file.size };
  }

  function progress(r, loaded) {
    var now = new Date().getTime();
    if (!r.started) { r.started = now; r.base = loaded; }
    r.bar.value = r.total ? Math.floor(loaded * 100 / r.total) : 100;
    var secs = (now - r.started) / 1000;
    var speed = secs > 0.5 ? (loaded - r.base) / secs : 0;
    var msg = human(loaded) + ' of ' + human(r.total);
    if (speed > 0) {
      // Time left only when there is a true figure: never "· left".
      var left = loaded < r.total ? duration((r.total - loaded) / speed) : '';
      msg += ' · ' + human(speed) + '/s';
      if (left) { msg += ' · ' + left + ' left'; } else if (loaded >= r.total) { msg += ' · finishing'; }
    }
    text(r.status, msg);
  }

  function finish(r, err) {
    if (err) {
      r.li.className = 'failed';
      text(r.status, err);
    } else {
      r.bar.value = 100;
      text(r.status, 'done');
    }
  }

  function errorText(xhr) {
    var t = xhr.responseText || '';
    try { t = JSON.parse(t).error || t; } catch (e) { /* plain text */ }
    return t ? t : 'failed (HTTP ' + xhr.status + ')';
  }

  /* Small files: one multipart POST each, with Accept: application/json. */
  function postFile(file, r, next) {
    var data = new FormData();
    data.append('folder', folderInput.value);
    data.append('file', file);
    var xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { progress(r, e.loaded); } };
    xhr.onload = function () {
      finish(r, xhr.status === 201 ? null : errorText(xhr));
      next();
    };
    xhr.onerror = function () { finish(r, 'the connection failed; try again'); next(); };
    xhr.send(data);
  }

  /* Big files: tus 1.0.0, resuming from the server's offset after any error. */
  function tusFile(file, r, next) {
    var key = 'pimedia-tus:' + file.name + ':' + file.size + ':' + (file.lastModified || 0) + ':' + folderInput.value;
    var url = null;
    var retries = 0;
    try { url = window.localStorage.getItem(key); } catch (e) { url = null; }

    function request(method, target, headers) {
      var xhr = new XMLHttpRequest();
      xhr.open(method, target);
      xhr.setRequestHeader('Tus-Resumable', '1.0.0');
      for (var h in headers) {
        if (headers.hasOwnProperty(h)) { xhr.setRequestHeader(h, headers[h]); }
      }
      return xhr;
    }

    function remember(u) {
      try {
        if (u) { window.localStorage.setItem(key, u); } else { window.localStorage.removeItem(key); }
      } catch (e) { /* private mode: no resume across reloads */ }
    }

    function retry() {
      retries++;
      var wait = Math.min(30, retries * 2);
      text(r.status, 'connection lost; retrying in ' + wait + ' s');
      setTimeout(locate, wait * 1000);
    }

    function create() {
      var meta = 'filename ' + b64(file.name) + ',folder ' + b64(folderInput.value);
      var xhr = request('POST', '/uploads/', { 'Upload-Length': String(file.size), 'Upload-Metadata': meta });
      xhr.onload = function () {
        if (xhr.status === 201) {
          url = xhr.getResponseHeader('Location');
          remember(url);
          send(0);
        } else {
          finish(r, errorText(xhr));
          next();
        }
      };
      xhr.onerror = retry;
      xhr.send(null);
    }

    function locate() {
      if (!url) { create(); return; }
      var xhr = request('HEAD', url, {});
      xhr.onload = function () {
        if (xhr.status === 200) {
          send(parseInt(xhr.getResponseHeader('Upload-Offset'), 10) || 0);
        } else {
          url = null;
          remember(null);
          create();
        }
      };
      xhr.onerror = retry;
      xhr.send(null);
    }

    function send(offset) {
      var end = Math.min(offset + CHUNK, file.size);
      var xhr = request('PATCH', url, {
        'Upload-Offset': String(offset),
        'Content-Type': 'application/offset+octet-stream'
      });
      xhr.upload.onprogress = function (e) { progress(r, offset + e.loaded); };
      xhr.onload = function () {
        if (xhr.status === 204) {
          retries = 0;
          var now = parseInt(xhr.getResponseHeader('Upload-Offset'), 10);
          progress(r, now);
          if (now >= file.size) {
            remember(null);
            finish(r, null);
            next();
          } else {
            send(now);
          }
        } else if (xhr.status === 409 || xhr.status === 460) {
          locate();
        } else {
          remember(null);
          finish(r, errorText(xhr));
          next();
        }
      };
      xhr.onerror = retry;
      xhr.send(file.slice(offset, end));
    }

    locate();
  }

  /* The screen stays on while uploading, or the phone sleeps and the
     browser stops the page. Wake Lock exists only on HTTPS or localhost;
     elsewhere (http://192.168.1.20/, http://raspberrypi.local/) a muted,
     looping, inline video started by the tap keeps phone screens on. */
  var awakeVideo = null;
  var keepOpen = document.getElementById('keep-open');
  function keepAwake(on) {
    if (navigator.wakeLock) {
      try {
        if (on && !wakeLock) {
          navigator.wakeLock.request('screen').then(function (l) { wakeLock = l; }, function () {});
        } else if (!on && wakeLock) {
          wakeLock.release();
          wakeLock = null;
        }
      } catch (e) { /* refused: the uploads go on regardless */ }
      return;
    }
    if (on && !awakeVideo) {
      awakeVideo = document.createElement('video');
      awakeVideo.id = 'keep-awake';
      awakeVideo.className = 'keep-awake';
      awakeVideo.muted = true;
      awakeVideo.loop = true;
      awakeVideo.setAttribute('muted', '');
      awakeVideo.setAttribute('loop', '');
      awakeVideo.setAttribute('playsinline', '');
      awakeVideo.setAttribute('webkit-playsinline', '');
      awakeVideo.setAttribute('tabindex', '-1');
      awakeVideo.src = '/static/awake.mp4';
      document.body.appendChild(awakeVideo);
    }
    if (awakeVideo) {
      if (on) {
        var p = awakeVideo.play();
        if (p && p.then) { p.then(null, function () {}); }
      } else {
        awakeVideo.pause();
      }
    }
    if (keepOpen) { keepOpen.hidden = !on; }
  }

  form.addEventListener('submit', function (e) {
    var files = input.files;
    if (!files || !files.length) { return; }
    e.preventDefault();
    button.disabled = true;
    doneNote.hidden = true;
    var queue = [];
    for (var i = 0; i < files.length; i++) {
      queue.push({ file: files[i], row: row(files[i]) });
    }
    keepAwake(true);
    function next() {
      var item = queue.shift();
      if (!item) {
        keepAwake(false);
        button.disabled = false;
        doneNote.hidden = false;
        input.value = '';
        return;
      }
      text(item.row.status, 'starting');
      if (canTus && item.file.size > threshold) {
        tusFile(item.file, item.row, next);
      } else {
        postFile(item.file, item.row, next);
      }
    }
    next();
  });

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && button.disabled) { keepAwake(true); }
  });
})();
