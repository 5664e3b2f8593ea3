// Emarge's own small script. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Move focus to the first field in error after a full-page form submit, for keyboard and screen-reader users.
  document.addEventListener("DOMContentLoaded", function () {
    var invalid = document.querySelector("[aria-invalid='true']");
    if (invalid) { invalid.focus(); }
  });
  // An error fragment swapped into #flash should be announced and visible.
  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target && event.detail.target.id === "flash") {
      event.detail.target.scrollIntoView({ block: "nearest" });
    }
  });
  // The header's search: arrow keys move from the field through the results, Escape closes them.
  function liveResults() { return document.getElementById("search-live"); }
  function resultLinks() { var box = liveResults(); return box ? Array.prototype.slice.call(box.querySelectorAll("a")) : []; }
  function closeResults(focusField) {
    var box = liveResults();
    if (box) { box.hidden = true; }
    if (focusField) { var field = document.querySelector("[data-search]"); if (field) { field.focus(); } }
  }
  document.addEventListener("keydown", function (event) {
    var field = document.querySelector("[data-search]");
    var box = liveResults();
    if (!field || !box) { return; }
    var inField = event.target === field, inBox = box.contains(event.target);
    if (!inField && !inBox) { return; }
    var links = resultLinks(), at = links.indexOf(event.target);
    if (event.key === "Escape") { closeResults(true); event.preventDefault(); }
    else if (event.key === "ArrowDown" && links.length) { links[Math.min(at + 1, links.length - 1)].focus(); event.preventDefault(); }
    else if (event.key === "ArrowUp" && inBox) { if (at <= 0) { field.focus(); } else { links[at - 1].focus(); } event.preventDefault(); }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var box = liveResults();
    if (box && event.detail.target && event.detail.target.id === "search-live") { box.hidden = !box.textContent.trim(); }
  });
  document.addEventListener("click", function (event) {
    var form = event.target.closest ? event.target.closest(".header-search") : null;
    if (!form) { closeResults(false); }
  });
  // Sign-up: the address suggested from the organization's name fills the address field while the visitor has
  // not typed one of their own; "Use it" takes it at any time.
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "slug-suggestion") { return; }
    var field = document.getElementById("slug"), offer = document.querySelector("#slug-suggestion [data-slug]");
    if (field && offer && (!field.value || field.hasAttribute("data-suggested"))) {
      field.value = offer.getAttribute("data-slug");
      field.setAttribute("data-suggested", "");
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target && event.target.id === "slug") { event.target.removeAttribute("data-suggested"); }
  });
  document.addEventListener("click", function (event) {
    var offer = event.target.closest ? event.target.closest("[data-slug]") : null;
    var field = document.getElementById("slug");
    if (offer && field) { field.value = offer.getAttribute("data-slug"); field.focus(); }
  });
})();
