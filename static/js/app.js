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
})();
