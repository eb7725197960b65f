// The kiosk screen: a new event code every 15 s (the server signs it and draws the QR once per
// window) and the live count of who is in. No inline scripts (CSP).
(function () {
  "use strict";

  function setup(box) {
    var id = box.dataset.eventId, action = box.dataset.action;
    var img = box.querySelector("[data-kiosk-qr]");
    var text = box.querySelector("[data-kiosk-code]");
    var inside = box.querySelector("[data-kiosk-inside]");
    var attended = box.querySelector("[data-kiosk-attended]");
    var status = box.querySelector("[data-kiosk-status]");
    var opens = box.querySelector("[data-kiosk-opens]");
    var full = box.querySelector("[data-kiosk-fullscreen]");
    if (full) {
      full.addEventListener("click", function () {
        var el = document.documentElement;
        if (el.requestFullscreen) { el.requestFullscreen().catch(function () {}); }
      });
    }
    if (!img && opens) {
      // Before check-in opens the screen shows when: it reloads itself then, to show the code
      // (checked again at least hourly, so a clock or sleep drift does not leave it waiting).
      var due = Date.parse(opens.dataset.opensAt) - Date.now() + 1000;
      setTimeout(function () { location.reload(); }, Math.max(1000, Math.min(due, 3600000)));
    }
    if (!img) { return; }  // an ended event's screen: no code to refresh, only what it came to

    function json(url) {
      return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
        .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); });
    }

    function refresh() {
      json("/api/v1/events/" + id + "/code?action=" + action)
        .then(function (body) {
          if (body.code !== text.textContent) {
            // The image URL names the code, so each window's image is fetched once.
            img.src = "/events/" + id + "/kiosk.svg?action=" + action + "&w=" + encodeURIComponent(body.code);
            text.textContent = body.code;
          }
          status.textContent = "";
          var wait = Date.parse(body.refresh_at) - Date.now() + 300;
          setTimeout(refresh, Math.max(1000, Math.min(wait, 15000)));
        })
        .catch(function () {
          status.textContent = box.dataset.offline || "…";
          setTimeout(refresh, 3000);
        });
    }

    function count() {
      json("/api/v1/events/" + id + "/live")
        .then(function (body) { inside.textContent = body.inside; attended.textContent = body.attended; })
        .catch(function () { /* the next poll tries again */ })
        .then(function () { setTimeout(count, 5000); });
    }

    var first = Date.parse(box.dataset.refreshAt) - Date.now() + 300;
    setTimeout(refresh, Math.max(500, Math.min(first, 15000)));
    setTimeout(count, 5000);

  }

  // Kiosk mode is locked: the browser's Back button stays on the kiosk (leaving it asks for the
  // organiser's password, on the page).
  function lock() {
    if (!window.history || !history.pushState) { return; }
    history.pushState({ kiosk: true }, "", location.href);
    window.addEventListener("popstate", function () { history.pushState({ kiosk: true }, "", location.href); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-kiosk]");
    boxes.forEach(setup);
    if (boxes.length) { lock(); }
  });
})();
