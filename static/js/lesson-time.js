// Reading time counts while the lesson is on screen: a heartbeat every few seconds while the page
// is visible (Page Visibility API), one last report when it is hidden, a fresh start when it shows
// again. "Mark as complete" counts down the minimum reading time and is usable when it is reached;
// the server decides, and says how much longer if asked too early. Without JavaScript the button
// is always usable and the server counts from opening the lesson to completing it.
(function () {
  "use strict";
  var clock = document.getElementById("lesson-clock");
  if (!clock || !window.fetch || !window.FormData || document.visibilityState === undefined) { return; }
  var interval = parseFloat(clock.dataset.interval) * 1000;
  var remaining = parseFloat(clock.dataset.remaining) * 1000;
  var form = document.getElementById("complete-form");
  var button = form && form.querySelector("button[type=submit]");
  var left = document.getElementById("time-left");
  var note = document.getElementById("time-note");
  var beat = null;
  var tick = null;
  var lastTick = null;

  function body(event) {
    var data = new FormData();
    data.append("csrf_token", clock.dataset.csrf);
    data.append("event", event);
    return data;
  }

  function send(event) {
    fetch(clock.dataset.url, {
      method: "POST", body: body(event), credentials: "same-origin", headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && typeof answer.remaining === "number") {  // the server's count wins
        remaining = answer.remaining * 1000;
        lastTick = performance.now();
        show();
      }
    }).catch(function () {});
  }

  function format(ms) {
    var whole = Math.ceil(ms / 1000);
    var seconds = whole % 60;
    return Math.floor(whole / 60) + ":" + (seconds < 10 ? "0" : "") + seconds;
  }

  function show() {
    if (!button) { return; }
    if (remaining > 0) {
      button.disabled = true;
      if (left) { left.textContent = left.dataset.template.replace("{time}", format(remaining)); }
      return;
    }
    button.disabled = false;
    if (left) { left.hidden = true; }
    if (note) { note.textContent = clock.dataset.ready; }
  }

  function countDown() {
    var now = performance.now();
    remaining -= now - lastTick;
    lastTick = now;
    show();
  }

  function start() {
    lastTick = performance.now();
    if (!beat) { beat = setInterval(function () { send("beat"); }, interval); }
    if (!tick && button) { tick = setInterval(countDown, 1000); }
  }

  function stop() {
    if (beat) { clearInterval(beat); beat = null; }
    if (tick) { countDown(); clearInterval(tick); tick = null; }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      send("show");
      start();
    } else {
      stop();
      if (!(navigator.sendBeacon && navigator.sendBeacon(clock.dataset.url, body("hide")))) {
        fetch(clock.dataset.url, { method: "POST", body: body("hide"), credentials: "same-origin", keepalive: true })
          .catch(function () {});
      }
    }
  });
  show();
  if (document.visibilityState === "visible") { start(); } else { send("hide"); }
})();
