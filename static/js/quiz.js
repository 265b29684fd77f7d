// Save quiz answers on the server as the learner goes, so a reload or a lost connection loses nothing.
// Without JavaScript the "Save and finish later" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form || !window.fetch) { return; }
  var status = document.getElementById("save-status");
  var timer = null;
  var submitting = false;

  function save() {
    timer = null;
    fetch(form.dataset.saveUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { "Accept": "application/json" },
      credentials: "same-origin"
    }).then(function (response) {
      status.textContent = response.ok ? form.dataset.savedText : form.dataset.failedText;
    }).catch(function () {
      status.textContent = form.dataset.failedText;
    });
  }

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, 600);
  }

  form.addEventListener("change", schedule);
  form.addEventListener("input", function (event) {
    if (event.target.type === "text") { schedule(); }
  });
  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }  // one submit per click, however fast
    submitting = true;
    if (timer) { clearTimeout(timer); }
  });
})();
