// Forms marked data-busy show that work is under way after submit: the button is disabled (so a
// second click sends nothing) and an indeterminate progress bar appears. Without JavaScript the
// form simply submits.
(function () {
  "use strict";
  document.querySelectorAll("form[data-busy]").forEach(function (form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      var bar = form.querySelector("progress[hidden]");
      if (button) {
        button.disabled = true;
        button.textContent = form.dataset.busy;
      }
      if (bar) { bar.hidden = false; }
    });
  });
})();
