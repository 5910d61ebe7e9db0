// discourse report: filters, search and collapse over the comment tree. Allowed by the page's CSP
// through its sha256 hash; with scripts off the controls stay hidden and every comment shows.
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var tree = document.getElementById("tree");
  if (!form || !tree) { return; }
  var items = Array.prototype.slice.call(tree.querySelectorAll("li.comment"));
  var collapsed = {};
  var count = document.getElementById("shown-count");
  function value(name) { var el = form.elements[name]; return el ? el.value : ""; }
  function matches(li) {
    var author = value("author"), label = value("label"), q = value("q").trim().toLowerCase();
    var min = parseFloat(value("tox")) || 0;
    if (author && li.getAttribute("data-author") !== author) { return false; }
    if (label && (" " + li.getAttribute("data-labels") + " ").indexOf(" " + label + " ") < 0) { return false; }
    if (min > 0 && !(parseFloat(li.getAttribute("data-tox")) >= min)) { return false; }
    if (form.elements.lowconf.checked && !(parseFloat(li.getAttribute("data-conf")) < 0.5)) { return false; }
    if (q && li.textContent.toLowerCase().indexOf(q) < 0) { return false; }
    return true;
  }
  function apply() {
    var shown = 0, hideBelow = Infinity;
    document.getElementById("tox-value").textContent = (parseFloat(value("tox")) || 0).toFixed(2);
    items.forEach(function (li) {
      var depth = parseInt(li.getAttribute("data-depth"), 10) || 1;
      if (depth <= hideBelow) { hideBelow = Infinity; }
      var hidden = depth > hideBelow || !matches(li);
      if (depth <= hideBelow && collapsed[li.id]) { hideBelow = depth; }
      li.hidden = hidden;
      if (!hidden) { shown += 1; }
      var btn = li.querySelector("button.toggle");
      if (btn) {
        btn.textContent = collapsed[li.id] ? "+ expand replies" : "− collapse replies";
        btn.setAttribute("aria-expanded", collapsed[li.id] ? "false" : "true");
      }
    });
    count.textContent = shown + " of " + items.length + " comments shown";
  }
  items.forEach(function (li, i) {
    var next = items[i + 1];
    var depth = parseInt(li.getAttribute("data-depth"), 10) || 1;
    if (!next || (parseInt(next.getAttribute("data-depth"), 10) || 1) <= depth) { return; }
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "toggle";
    btn.addEventListener("click", function () { collapsed[li.id] = !collapsed[li.id]; apply(); });
    li.querySelector(".meta").appendChild(btn);
  });
  form.addEventListener("input", apply);
  form.addEventListener("change", apply);
  form.addEventListener("submit", function (ev) { ev.preventDefault(); });
  document.getElementById("show-all").addEventListener("click", function () {
    form.reset(); collapsed = {}; apply();
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    items.forEach(function (li) { if (li.querySelector("button.toggle")) { collapsed[li.id] = true; } });
    apply();
  });
  // a link to a comment hidden by a filter or a collapse shows everything again first
  window.addEventListener("hashchange", function () {
    var target = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (target && target.hidden) { form.reset(); collapsed = {}; apply(); target.scrollIntoView(); }
  });
  form.hidden = false;
  apply();
})();
