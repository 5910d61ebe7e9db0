// discourse index: click a column heading to sort the table by it (again: the other way round).
// Allowed by the page's CSP through its sha256 hash; without it the table stays as written.
(function () {
  "use strict";
  var table = document.getElementById("threads");
  if (!table) { return; }
  var body = table.tBodies[0];
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
    if (!th.hasAttribute("data-sort")) { return; }
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "sort";
    btn.textContent = th.textContent;
    th.textContent = "";
    th.appendChild(btn);
    btn.addEventListener("click", function () {
      var down = th.getAttribute("aria-sort") !== "descending";
      var numeric = th.getAttribute("data-sort") === "num";
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", down ? "descending" : "ascending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute("data-key") || "", y = b.cells[col].getAttribute("data-key") || "";
        var d = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : (x < y ? -1 : x > y ? 1 : 0);
        return down ? -d : d;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
})();
