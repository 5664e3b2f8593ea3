// Emarge live attendance: a change check every second (204 while nothing changed), the roster (or the home
// page's list, data-refresh names it) fetched only when the version moved, the room code refreshed when it
// turns, and copy buttons for the links page.
(function () {
  "use strict";
  var POLL_MS = 1000;

  function rosterBusy(roster) {
    // Never swap the roster under a facilitator who is filling in a row's form.
    return !!(roster && (roster.querySelector("details[open]") ||
      (document.activeElement && roster.contains(document.activeElement) && document.activeElement.tagName !== "BODY")));
  }

  function startPolling() {
    var pending = false;
    // The element is read again at each check: a refreshed list brings its own (the half-days it watches).
    function current() { return document.getElementById("live-poll"); }

    function refresh() {
      var poll = current();
      var roster = poll && document.getElementById(poll.getAttribute("data-refresh") || "roster");
      if (!roster || !window.htmx) { return; }
      if (rosterBusy(roster)) { pending = true; return; }
      pending = false;
      window.htmx.trigger(roster, "emarge:changed");
    }

    function check() {
      var poll = current();
      if (!poll) { setTimeout(check, POLL_MS); return; }
      var version = poll.getAttribute("data-version") || "";
      // No cookie travels with the check: the token in its URL is all it needs.
      fetch(poll.getAttribute("data-poll-url") + "?v=" + encodeURIComponent(version), { cache: "no-store", credentials: "omit" })
        .then(function (response) {
          if (response.status === 200 && poll === current()) {
            return response.text().then(function (text) {
              poll.setAttribute("data-version", text);
              refresh();
            });
          }
        })
        .catch(function () { /* offline for a moment: the next check catches up */ })
        .then(function () {
          if (pending) { refresh(); }
          setTimeout(check, POLL_MS);
        });
    }
    setTimeout(check, POLL_MS);
    document.addEventListener("toggle", function () { if (pending) { refresh(); } }, true);
    document.addEventListener("focusout", function () { setTimeout(function () { if (pending) { refresh(); } }, 50); });
  }

  function scheduleCode(section) {
    var wait = parseInt(section.getAttribute("data-refresh-in") || "30000", 10);
    setTimeout(function () {
      if (document.body.contains(section) && window.htmx) { window.htmx.trigger(section, "emarge:tick"); }
    }, Math.max(500, wait + 250));
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (document.getElementById("live-poll")) { startPolling(); }
    var code = document.getElementById("room-code");
    if (code && code.hasAttribute("data-refresh-in")) { scheduleCode(code); }
    document.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-copy]") : null;
      if (!button) { return; }
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) { return; }
      input.select();
      var done = function () { button.textContent = button.getAttribute("data-copied") || button.textContent; };
      if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(input.value).then(done); }
      else { try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ } }
    });
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    var section = document.getElementById("room-code");
    if (target && target.id === "room-code" && section && section.hasAttribute("data-refresh-in")) {
      scheduleCode(section);
    }
  });
})();
