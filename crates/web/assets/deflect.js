// Tier0 deflection: shows matching knowledge articles under any input that
// has a data-suggest attribute ("check these articles first"). Progressive
// enhancement only: without this script the portal works the same, with a
// server-side check step (/portal/request/check).
(function () {
  "use strict";
  var DELAY = 200;

  function attach(input) {
    var box = document.createElement("div");
    box.className = "suggestions card";
    box.setAttribute("role", "region");
    box.setAttribute("aria-live", "polite");
    box.setAttribute("aria-label", "Articles that may help");
    box.hidden = true;
    input.insertAdjacentElement("afterend", box);
    var timer = null;
    var last = "";
    var seq = 0;

    function render(items, q) {
      while (box.firstChild) box.removeChild(box.firstChild);
      if (!items.length) { box.hidden = true; return; }
      var h = document.createElement("p");
      h.className = "suggestions-title";
      h.textContent = "Check these articles first:";
      box.appendChild(h);
      var ul = document.createElement("ul");
      ul.className = "plain-list";
      items.forEach(function (it) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = it.url + "?q=" + encodeURIComponent(q);
        a.textContent = it.title;
        li.appendChild(a);
        var meta = document.createElement("span");
        meta.className = "meta";
        meta.textContent = " " + it.number + (it.kind === "known_error" ? " · known error" : "");
        li.appendChild(meta);
        ul.appendChild(li);
      });
      box.appendChild(ul);
      box.hidden = false;
    }

    function lookup() {
      var q = input.value.trim();
      if (q === last) return;
      last = q;
      if (q.length < 3) { render([], q); return; }
      var mine = ++seq;
      fetch("/api/itsm/kedb/suggest?q=" + encodeURIComponent(q), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) { if (mine === seq) render(body.items || [], q); })
        .catch(function () { /* suggestions are optional */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(lookup, DELAY);
    });
  }

  function init() {
    var inputs = document.querySelectorAll("input[data-suggest], textarea[data-suggest]");
    for (var i = 0; i < inputs.length; i++) attach(inputs[i]);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
