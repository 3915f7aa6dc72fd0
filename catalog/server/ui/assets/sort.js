// Sortable tables, as a progressive enhancement: a click on the header of a column of a
// table.sortable sorts its rows by that column, a second click reverses the order. A
// cell's data-sort value, when set, is sorted on instead of its text; numbers sort as
// numbers. The choice survives live updates (live.js).
(function () {
  "use strict";
  var chosen = {}; // by table index: {col, dir}

  function key(row, col) {
    var cell = row.cells[col];
    if (!cell) { return ""; }
    var v = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent.trim();
    var n = Number(v);
    return v !== "" && !isNaN(n) ? n : v.toLowerCase();
  }

  function sort(table, col, dir) {
    var body = table.tBodies[0];
    if (!body) { return; }
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return !r.classList.contains("empty"); });
    rows.sort(function (a, b) {
      var x = key(a, col), y = key(b, col);
      if (typeof x !== typeof y) { x = String(x); y = String(y); }
      return (x < y ? -1 : x > y ? 1 : 0) * dir;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      if (i === col) { th.setAttribute("aria-sort", dir > 0 ? "ascending" : "descending"); } else { th.removeAttribute("aria-sort"); }
    });
  }

  function setup() {
    var tables = document.querySelectorAll("table.sortable");
    Array.prototype.forEach.call(tables, function (table, ti) {
      if (!table.tHead || !table.tHead.rows.length) { return; }
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
        if (th.querySelector("button.sort")) { return; }
        var b = document.createElement("button");
        b.type = "button";
        b.className = "sort";
        b.textContent = th.textContent;
        b.title = "Sort by " + th.textContent;
        th.textContent = "";
        th.appendChild(b);
        b.addEventListener("click", function () {
          var c = chosen[ti];
          var dir = c && c.col === col ? -c.dir : 1;
          chosen[ti] = { col: col, dir: dir };
          sort(table, col, dir);
        });
      });
      var c = chosen[ti];
      if (c) { sort(table, c.col, c.dir); }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setup);
  } else {
    setup();
  }
  document.addEventListener("paved:updated", setup);
}());
