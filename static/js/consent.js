// The cookie banner. It works without this script (plain form posts, a settings page); with htmx, choices are
// posted in place and this script only looks after focus and tells audience.js the outcome.
(function () {
  "use strict";
  // The banner reopened from "Cookie settings": move focus into it, for keyboard and screen-reader users.
  document.addEventListener("htmx:afterSettle", function (event) {
    var source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!source || !source.hasAttribute("data-consent-open")) { return; }
    var title = document.getElementById("consent-title");
    if (title) { title.focus(); }
  });
  // Escape closes the banner, which counts as a refusal (as its close button says).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var banner = document.querySelector("#consent-region .consent");
    if (banner && banner.contains(document.activeElement)) {
      var close = banner.querySelector("button.consent-close");
      if (close) { close.click(); }
    }
  });
})();
