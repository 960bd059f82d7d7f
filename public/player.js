/* pimedia player: fullscreen button, remote keys on the video. ES5 only. */
(function () {
  'use strict';
  var video = document.getElementById('player');
  var fsButton = document.getElementById('fullscreen');
  if (!video) { return; }

  function enterFullscreen() {
    var el = video;
    if (el.requestFullscreen) { el.requestFullscreen(); }
    else if (el.webkitRequestFullscreen) { el.webkitRequestFullscreen(); }
    else if (el.webkitEnterFullscreen) { el.webkitEnterFullscreen(); }
    else if (el.mozRequestFullScreen) { el.mozRequestFullScreen(); }
  }

  if (fsButton) {
    fsButton.addEventListener('click', enterFullscreen);
  }

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
