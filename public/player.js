/* pimedia player: resume on any device, start over, fullscreen, subtitles,
   remote keys on the video. ES5 only. */
(function () {
  'use strict';
  var video = document.getElementById('player');
  if (!video) { return; }
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
  function saveOnLeave() {
    if (!positionUrl || !(video.currentTime > 0)) { return; }
    if (navigator.sendBeacon) {
      navigator.sendBeacon(positionUrl, body());
    } else {
      save();
    }
  }
  video.addEventListener('timeupdate', function () {
    if (new Date().getTime() - lastSaved >= 10000) { save(); }
  });
  video.addEventListener('pause', save);
  video.addEventListener('ended', save);
  window.addEventListener('pagehide', saveOnLeave);
  window.addEventListener('beforeunload', saveOnLeave);

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

  /* Subtitles on and off. */
  function showSubtitles(on) {
    for (var i = 0; i < video.textTracks.length; i++) {
      video.textTracks[i].mode = (on && i === 0) ? 'showing' : 'hidden';
    }
    if (subsButton) {
      subsButton.setAttribute('aria-pressed', on ? 'true' : 'false');
      subsButton.textContent = on ? 'Subtitles on' : 'Subtitles off';
    }
  }
  if (subsButton && video.textTracks) {
    showSubtitles(true);
    subsButton.addEventListener('click', function () {
      showSubtitles(subsButton.getAttribute('aria-pressed') !== 'true');
    });
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

  video.setAttribute('tabindex', '0');
  video.focus();
})();
