// The scanner page: the phone camera through the vendored jsQR, the typed code as fallback.
// Both submit the same form (htmx posts it to /scan and swaps in the result screen).
(function () {
  "use strict";

  function setup(box) {
    var form = document.querySelector("[data-scan-form]");
    var input = form.querySelector("input[name=code]");
    var via = form.querySelector("input[name=via]") || {};  // only the scanner page's form says how
    var video = box.querySelector("video");
    var canvas = box.querySelector("canvas");
    var status = box.querySelector("[data-scanner-status]");
    var start = box.querySelector("[data-scanner-start]");
    var ctx = canvas.getContext("2d", { willReadFrequently: true });
    var last = "", lastAt = 0, pausedUntil = 0, running = false;

    function say(text) { status.textContent = text || ""; }

    function submit(code) {
      input.value = code;
      via.value = "camera";
      pausedUntil = Date.now() + 2500;
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }

    function tick() {
      if (!running) { return; }
      if (video.readyState === video.HAVE_ENOUGH_DATA && Date.now() > pausedUntil && window.jsQR) {
        var w = video.videoWidth, h = video.videoHeight;
        var scale = Math.min(1, 640 / Math.max(w, h));
        canvas.width = Math.round(w * scale);
        canvas.height = Math.round(h * scale);
        ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = ctx.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
        if (found && found.data) {
          var now = Date.now();
          // One showing of a code is one scan, however long it is held up: the same code is sent
          // again only once it has been out of sight for a few seconds (shown again on purpose).
          // A resident's phone held in front of the shop's camera after the redemption was read
          // again every 4 s, and the answer "already used, do not serve again" replaced the
          // redemption's green one while the service was still to be given.
          if (found.data !== last || now - lastAt > 4000) { submit(found.data); }
          last = found.data; lastAt = now;
        }
      }
      window.requestAnimationFrame(tick);
    }

    function noCamera() {
      say(box.dataset.noCamera);
      start.hidden = true;
      input.focus();
    }

    // A code typed or edited by hand is a typed code, whatever the camera read before.
    input.addEventListener("input", function () { via.value = "typed"; });

    start.addEventListener("click", function () {
      if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { noCamera(); return; }
      say(box.dataset.starting);
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (stream) {
          video.srcObject = stream;
          video.hidden = false;
          start.hidden = true;
          return video.play();
        })
        .then(function () { running = true; say(box.dataset.scanning); tick(); })
        .catch(noCamera);
    });

    // The answer comes above the form: it is brought into sight first, and the emptied field
    // takes the focus for the next code without scrolling the answer's top (who, what) away.
    document.body.addEventListener("htmx:afterSwap", function (e) {
      if (e.detail && e.detail.target && e.detail.target.id === "scan-result") {
        input.value = "";
        via.value = "typed";
        if (e.detail.target.getBoundingClientRect().top < 0) { e.detail.target.scrollIntoView(true); }
        if (!running) { input.focus({ preventScroll: true }); }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-scanner]").forEach(setup);
  });
})();
