// The entity page's "Copy" button: puts the markup snippet on the clipboard (no inline script: CSP-safe).
(function () {
  "use strict";
  var button = document.getElementById("copy-embed");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var area = document.getElementById(button.getAttribute("data-target"));
    var status = document.getElementById("copy-status");
    var say = function (text) { status.textContent = text; };
    area.focus();
    area.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (e) { copied = false; }
    if (copied) { say("Copied."); return; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(area.value).then(function () { say("Copied."); },
        function () { say("Selected: press Ctrl+C to copy."); });
    } else {
      say("Selected: press Ctrl+C to copy.");
    }
  });
})();
