// The studio editor: jump to an error's line, show the cursor's line, refresh the preview as you type.
(function () {
  "use strict";
  var form = document.getElementById("editor-form");
  if (!form) { return; }
  var text = document.getElementById("text");
  var preview = document.getElementById("preview");
  var cursor = document.getElementById("cursor-line");
  var dirty = false;
  var timer = null;
  var pending = null;

  function lineStart(value, line) {
    var offset = 0;
    for (var n = 1; n < line; n += 1) {
      var next = value.indexOf("\n", offset);
      if (next < 0) { return value.length; }
      offset = next + 1;
    }
    return offset;
  }

  function goToLine(line) {
    var value = text.value;
    var start = lineStart(value, line);
    var end = value.indexOf("\n", start);
    text.focus();
    text.setSelectionRange(start, end < 0 ? value.length : end);
    var lineHeight = parseFloat(getComputedStyle(text).lineHeight) || 20;
    text.scrollTop = Math.max(0, (line - 5) * lineHeight);
    showCursor();
  }

  function showCursor() {
    var before = text.value.slice(0, text.selectionStart);
    var line = before.split("\n").length;
    var column = before.length - before.lastIndexOf("\n");
    cursor.textContent = cursor.dataset.label.replace("{n}", line).replace("{c}", column);
  }

  function refresh() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    var data = new FormData(form);
    data.set("path", form.dataset.path);
    fetch(form.dataset.previewUrl, { method: "POST", body: data, signal: pending.signal, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null) { preview.innerHTML = html; } })
      .catch(function () { /* a newer keystroke replaced this request */ });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest(".error-line");
    if (link) {
      event.preventDefault();
      goToLine(parseInt(link.dataset.line, 10));
    }
  });
  text.addEventListener("input", function () {
    dirty = true;
    clearTimeout(timer);
    timer = setTimeout(refresh, 500);
  });
  ["keyup", "click", "focus"].forEach(function (name) { text.addEventListener(name, showCursor); });
  text.addEventListener("keydown", function (event) {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      form.querySelector("button[value=save]").click();
    }
  });
  form.addEventListener("submit", function () { dirty = false; });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  showCursor();
}());
