/* pimedia conversions: refresh progress every 2 s while jobs run. ES5 only. */
(function () {
  'use strict';
  var list = document.getElementById('job-list');
  if (!list || !window.XMLHttpRequest) { return; }

  function poll() {
    var xhr = new XMLHttpRequest();
    xhr.open('GET', '/api/jobs');
    xhr.onload = function () {
      if (xhr.status !== 200) { return; }
      var jobs;
      try { jobs = JSON.parse(xhr.responseText); } catch (e) { return; }
      var live = false;
      for (var i = 0; i < jobs.length; i++) {
        var j = jobs[i];
        var li = document.getElementById('job-' + j.id);
        if (!li || li.className.indexOf('state-' + j.state) < 0) {
          /* A job appeared or changed state: the server renders it best. */
          window.location.reload();
          return;
        }
        if (j.state === 'queued' || j.state === 'running') { live = true; }
        var bar = li.getElementsByTagName('progress')[0];
        if (bar) { bar.value = j.progress; }
        var detail = li.querySelector('.job-detail');
        /* The server formats it, as on the page. */
        if (detail) { detail.textContent = j.detail; }
      }
      if (live) { setTimeout(poll, 2000); }
    };
    xhr.send(null);
  }
  if (list.querySelector('.state-running, .state-queued')) { setTimeout(poll, 2000); }
})();
