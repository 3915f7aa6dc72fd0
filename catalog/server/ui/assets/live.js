// Live updates, as a progressive enhancement: every page works without this script.
// The catalog streams a "change" event (server-sent events, GET /events) whenever an
// instance joins, leaves, or changes status or version, and whenever a component, a
// scorecard or a deployment changes; the page then fetches itself
// again and swaps its <main> for the new one. Table sorting (sort.js) is re-applied.
(function () {
  "use strict";
  var main = document.querySelector("main[data-live]");
  if (!main || !window.EventSource || !window.fetch || !window.DOMParser) {
    return;
  }
  var busy = false, again = false;
  function typing() {
    var a = document.activeElement;
    return a && main.contains(a) && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName);
  }
  function refresh() {
    if (busy) { again = true; return; }
    if (typing()) { setTimeout(refresh, 2000); return; } // never swap a form being filled in
    busy = true;
    fetch(location.href, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (text) {
        var doc = new DOMParser().parseFromString(text, "text/html");
        var next = doc.querySelector("main");
        if (!next) { return; }
        main.innerHTML = next.innerHTML;
        main.setAttribute("data-updated", String(Date.now()));
        document.dispatchEvent(new CustomEvent("paved:updated"));
      })
      .catch(function () { /* the next change tries again */ })
      .then(function () {
        busy = false;
        if (again) { again = false; setTimeout(refresh, 500); }
      });
  }
  var es = new EventSource(main.getAttribute("data-live"));
  es.addEventListener("index", function () { document.documentElement.setAttribute("data-live", "on"); });
  // A registration is a burst of writes (component, instance, scorecard): the page
  // is fetched a second after the first change, once.
  var timer = null;
  es.addEventListener("change", function () {
    if (timer === null) { timer = setTimeout(function () { timer = null; refresh(); }, 1000); }
  });
}());
