// Emarge signing: a small signature pad (touch, pen or mouse through pointer events) and the room-code
// scanner (the browser's BarcodeDetector where present, else the vendored jsQR). No inline script: CSP.
(function () {
  "use strict";

  function setupPad(form) {
    var canvas = form.querySelector("[data-pad]");
    if (!canvas) { return; }
    var output = form.querySelector("[data-pad-output]");
    var empty = form.querySelector("[data-pad-empty]");
    var submit = form.querySelector("[data-pad-submit]");
    var ctx = canvas.getContext("2d");
    var drawing = false, last = null, inked = 0, sent = false;

    function resize() {
      // Sharp on dense screens, within what the server accepts (2000 x 1000 at most).
      var ratio = Math.min(window.devicePixelRatio || 1, 2);
      var width = Math.max(100, Math.min(2000, Math.round(canvas.clientWidth * ratio)));
      var height = Math.max(50, Math.min(1000, Math.round(canvas.clientHeight * ratio)));
      if (canvas.width === width && canvas.height === height) { return; }
      canvas.width = width;
      canvas.height = height;
      ctx.lineCap = "round";
      ctx.lineJoin = "round";
      ctx.strokeStyle = "#111";
      ctx.lineWidth = 2.5 * ratio;
      inked = 0;
    }

    function point(event) {
      var rect = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - rect.left) * (canvas.width / rect.width),
        y: (event.clientY - rect.top) * (canvas.height / rect.height),
        p: event.pressure || 0.5
      };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      resize();
      drawing = true;
      last = point(event);
      if (canvas.setPointerCapture) { canvas.setPointerCapture(event.pointerId); }
      ctx.beginPath();
      ctx.arc(last.x, last.y, ctx.lineWidth / 2, 0, Math.PI * 2);
      ctx.fillStyle = "#111";
      ctx.fill();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      event.preventDefault();
      var events = event.getCoalescedEvents ? event.getCoalescedEvents() : [event];
      for (var i = 0; i < events.length; i++) {
        var next = point(events[i]);
        ctx.beginPath();
        ctx.moveTo(last.x, last.y);
        ctx.lineTo(next.x, next.y);
        ctx.stroke();
        inked += Math.abs(next.x - last.x) + Math.abs(next.y - last.y);
        last = next;
      }
      if (empty) { empty.hidden = true; }
    });
    function stop() { drawing = false; last = null; }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);
    canvas.addEventListener("pointerleave", stop);

    var clear = form.querySelector("[data-pad-clear]");
    if (clear) {
      clear.addEventListener("click", function () {
        ctx.clearRect(0, 0, canvas.width, canvas.height);
        inked = 0;
        output.value = "";
      });
    }

    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      if (inked < 40) {
        event.preventDefault();
        if (empty) { empty.hidden = false; }
        canvas.focus();
        return;
      }
      output.value = canvas.toDataURL("image/png");
      // One submit: a double tap sends one request (the server is safe either way).
      sent = true;
      if (submit) { submit.disabled = true; submit.setAttribute("aria-busy", "true"); }
    });

    window.addEventListener("resize", function () { if (!inked) { resize(); } });
    resize();
    // The signature sent with a refused room code comes back: drawn again on the pad, ready to send.
    if (output.hasAttribute("data-pad-kept") && output.value.indexOf("data:image/png;base64,") === 0) {
      var kept = new Image();
      kept.onload = function () {
        ctx.drawImage(kept, 0, 0, canvas.width, canvas.height);
        inked = 1000;
        canvas.setAttribute("data-pad-restored", "");
      };
      kept.src = output.value;
    }
  }

  function setupScanner(form) {
    var button = form.querySelector("[data-scan]");
    var box = form.querySelector("[data-scanner]");
    if (!button || !box) { return; }
    var input = form.querySelector("input[name=code]");
    var video = box.querySelector("[data-scanner-video]");
    var status = box.querySelector("[data-scanner-status]");
    var stopButton = box.querySelector("[data-scan-stop]");
    var stream = null, detector = null, scratch = null, timer = null;

    if (!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia)) {
      button.hidden = true;  // no camera API: typing the code is the way
      return;
    }

    function stop() {
      if (timer) { clearTimeout(timer); timer = null; }
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); stream = null; }
      box.hidden = true;
    }

    function accept(text) {
      var code = (text || "").toUpperCase().replace(/[^A-Z0-9]/g, "");
      if (code.length !== 6) { return false; }
      input.value = code;
      stop();
      input.focus();
      return true;
    }

    function loadJsQR() {
      return new Promise(function (resolve, reject) {
        if (window.jsQR) { resolve(); return; }
        var script = document.createElement("script");
        script.src = button.getAttribute("data-jsqr");
        script.onload = function () { resolve(); };
        script.onerror = reject;
        document.head.appendChild(script);
      });
    }

    function tick() {
      if (!stream) { return; }
      if (video.readyState >= 2) {
        if (detector) {
          detector.detect(video).then(function (codes) {
            if (!(codes.length && accept(codes[0].rawValue))) { timer = setTimeout(tick, 200); }
          }).catch(function () { timer = setTimeout(tick, 400); });
          return;
        }
        scratch = scratch || document.createElement("canvas");
        scratch.width = video.videoWidth;
        scratch.height = video.videoHeight;
        var c = scratch.getContext("2d", { willReadFrequently: true });
        c.drawImage(video, 0, 0);
        var found = window.jsQR(c.getImageData(0, 0, scratch.width, scratch.height).data, scratch.width, scratch.height);
        if (found && accept(found.data)) { return; }
      }
      timer = setTimeout(tick, 250);
    }

    button.addEventListener("click", function () {
      var ready = ("BarcodeDetector" in window)
        ? window.BarcodeDetector.getSupportedFormats().then(function (formats) {
            if (formats.indexOf("qr_code") >= 0) { detector = new window.BarcodeDetector({ formats: ["qr_code"] }); }
            else { return loadJsQR(); }
          })
        : loadJsQR();
      ready.then(function () {
        return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
      }).then(function (s) {
        stream = s;
        video.srcObject = s;
        box.hidden = false;
        return video.play();
      }).then(tick).catch(function () {
        box.hidden = false;
        status.textContent = box.getAttribute("data-denied") || status.textContent;
        stop();
        input.focus();
      });
    });
    if (stopButton) { stopButton.addEventListener("click", stop); }
    form.addEventListener("submit", stop);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("[data-sign-form]");
    for (var i = 0; i < forms.length; i++) {
      setupPad(forms[i]);
      setupScanner(forms[i]);
    }
  });
})();
