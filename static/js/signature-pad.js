// A small drawing pad: <canvas data-signature-pad data-target="ID"> writes a PNG data URL into the input ID.
(function () {
  "use strict";

  function setup(canvas) {
    var input = document.getElementById(canvas.getAttribute("data-target"));
    var context = canvas.getContext("2d");
    var drawing = false;

    function size() {
      var ratio = window.devicePixelRatio || 1;
      var box = canvas.getBoundingClientRect();
      canvas.width = Math.round(box.width * ratio);
      canvas.height = Math.round(box.height * ratio);
      context.setTransform(ratio, 0, 0, ratio, 0, 0);
      context.lineWidth = 2.5;
      context.lineCap = "round";
      context.lineJoin = "round";
      context.strokeStyle = "#111";
      if (input) { input.value = ""; }
    }

    function point(event) {
      var box = canvas.getBoundingClientRect();
      return { x: event.clientX - box.left, y: event.clientY - box.top };
    }

    canvas.addEventListener("pointerdown", function (event) {
      event.preventDefault();
      drawing = true;
      canvas.setPointerCapture(event.pointerId);
      var p = point(event);
      context.beginPath();
      context.moveTo(p.x, p.y);
      context.lineTo(p.x + 0.1, p.y + 0.1);
      context.stroke();
    });
    canvas.addEventListener("pointermove", function (event) {
      if (!drawing) { return; }
      var p = point(event);
      context.lineTo(p.x, p.y);
      context.stroke();
    });
    function stop() {
      if (!drawing) { return; }
      drawing = false;
      if (input) { input.value = canvas.toDataURL("image/png"); }
    }
    canvas.addEventListener("pointerup", stop);
    canvas.addEventListener("pointercancel", stop);

    var clear = document.querySelector("[data-signature-clear='" + canvas.getAttribute("data-target") + "']");
    if (clear) {
      clear.addEventListener("click", function () {
        context.clearRect(0, 0, canvas.width, canvas.height);
        if (input) { input.value = ""; }
      });
    }
    size();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var pads = document.querySelectorAll("canvas[data-signature-pad]");
    for (var i = 0; i < pads.length; i++) { setup(pads[i]); }
  });
})();
