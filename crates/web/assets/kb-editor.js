// Tier0 knowledge editor: live preview of the Markdown body. Without this
// script the editor's "Preview" button renders the same preview on the
// server. The HTML comes from the server's sanitiser (/api/itsm/kb/preview).
(function () {
  "use strict";
  function init() {
    var area = document.querySelector("textarea[data-preview-target]");
    if (!area) return;
    var target = document.getElementById(area.getAttribute("data-preview-target"));
    if (!target) return;
    var timer = null;
    var seq = 0;
    function refresh() {
      var mine = ++seq;
      fetch("/api/itsm/kb/preview", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ body_markdown: area.value })
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body && mine === seq) target.innerHTML = body.html; })
        .catch(function () { /* the Preview button still works */ });
    }
    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(refresh, 400);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
