// First-party audience measurement. Dormant unless the page says the visitor accepted it
// (<meta name="emarge-audience" content="on">) or accepts it now (the "emarge-consent" event htmx fires from
// the server's answer). A refusal signal from the browser (Global Privacy Control, Do Not Track) keeps it
// dormant whatever the page says. Measures: the page view, the time the page is visible, clicks on elements
// carrying data-measure, where the visitor came from, language and screen width (for the device class).
(function () {
  "use strict";
  var ENDPOINT = "/privacy/collect";
  var on = false;
  var viewId = null;
  var visibleMs = 0;
  var visibleSince = null;

  function refusalSignal() {
    return navigator.globalPrivacyControl === true || navigator.doNotTrack === "1" || window.doNotTrack === "1";
  }

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
    } catch (e) {
      return "";
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function send(data) {
    if (!on) { return; }
    data.view = viewId;
    try {
      window.fetch(ENDPOINT, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(data)
      }).catch(function () {});
    } catch (e) { /* measurement never breaks a page */ }
  }

  function start() {
    if (on || refusalSignal()) { return; }
    on = true;
    viewId = randomId();
    visibleMs = 0;
    visibleSince = document.visibilityState === "visible" ? performance.now() : null;
    send({
      type: "view",
      path: window.location.pathname,
      referrer: document.referrer || "",
      language: navigator.language || "",
      width: window.screen ? window.screen.width : 0
    });
  }

  function stop() {
    on = false;
    visibleSince = null;
  }

  function reportTime() {
    if (!on || visibleSince === null) { return; }
    visibleMs += performance.now() - visibleSince;
    visibleSince = null;
    send({ type: "time", seconds: Math.round(visibleMs / 1000) });
  }

  document.addEventListener("visibilitychange", function () {
    if (!on) { return; }
    if (document.visibilityState === "hidden") { reportTime(); } else { visibleSince = performance.now(); }
  });
  window.addEventListener("pagehide", reportTime);

  document.addEventListener("click", function (event) {
    if (!on || !event.target.closest) { return; }
    var marked = event.target.closest("[data-measure]");
    if (marked) {
      send({ type: "click", target: marked.getAttribute("data-measure"), path: window.location.pathname });
    }
  }, true);

  document.addEventListener("emarge-consent", function (event) {
    var meta = document.querySelector("meta[name='emarge-audience']");
    var accepted = !!(event.detail && event.detail.audience);
    if (meta) { meta.setAttribute("content", accepted ? "on" : "off"); }
    if (accepted) { start(); } else { stop(); }
  });

  function init() {
    var meta = document.querySelector("meta[name='emarge-audience']");
    if (meta && meta.getAttribute("content") === "on") { start(); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
