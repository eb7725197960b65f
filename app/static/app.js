// Jinlin page scripts. No inline scripts anywhere (CSP); pages opt in with data- attributes.
(function () {
  "use strict";

  // The phone's member code (or a wish's delivery code, data-code-url): fetch a freshly signed
  // code before the current one ends, draw it with the vendored QR generator. The server only signs.
  function memberCode(box) {
    var url = box.dataset.codeUrl || "/api/v1/me/card";
    var img = box.querySelector("img.qr");
    var text = box.querySelector("[data-code-text]");
    var status = box.querySelector("[data-code-status]");
    function draw(code) {
      if (window.qrcode) {
        var qr = window.qrcode(0, "M");
        qr.addData(code, "Alphanumeric");
        qr.make();
        img.src = qr.createDataURL(8, 32);  // 8 px a module, a quiet zone of 4
      } else if (!box.dataset.codeUrl) {
        img.src = "/api/v1/me/card.svg?ts=" + Date.now();
      }
      text.textContent = code;
      box.dataset.code = code;
    }
    function refresh() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) {
          // A wish's code ends with its claim (delivered, given back): the page says what happened.
          if (box.dataset.codeUrl && r.status >= 400 && r.status < 500) { window.location.reload(); }
          if (!r.ok) { throw new Error(r.status); }
          return r.json();
        })
        .then(function (body) {
          draw(body.code);
          status.textContent = status.dataset.ok || status.textContent;
          var wait = Math.max(1000, Date.parse(body.expires_at) - Date.now() + 200);
          setTimeout(refresh, Math.min(wait, 15000));
        })
        .catch(function () {
          status.textContent = status.dataset.offline || "…";
          setTimeout(refresh, 3000);
        });
    }
    draw(box.dataset.code);
    var first = Math.max(500, Date.parse(box.dataset.expires) - Date.now() + 200);
    setTimeout(refresh, Math.min(first, 15000));
  }

  // A table wider than its box scrolls inside it (app.css); one that scrolls takes the keyboard's
  // focus, so it can be scrolled without a mouse.
  function scrollableTables() {
    document.querySelectorAll("table.list").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.tabIndex = 0;
      } else {
        table.removeAttribute("tabindex");
      }
    });
  }

  // On a phone a table's rows stack and its header row is hidden (app.css): each cell after the
  // first (the row's title) carries its column's name, shown before the value. A cell the page
  // labelled itself keeps its label (the street's figures name their units there, and their
  // header has the units in a row of their own).
  function labelCells() {
    document.querySelectorAll("table.list").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead tr:first-child th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.querySelectorAll("tbody tr").forEach(function (row) {
        Array.prototype.forEach.call(row.children, function (cell, i) {
          if (i > 0 && heads[i] && !cell.hasAttribute("colspan") && !cell.hasAttribute("data-label")) {
            cell.dataset.label = heads[i];
          }
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-member-code]").forEach(memberCode);
    labelCells();
    scrollableTables();
    window.addEventListener("resize", scrollableTables);
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  });
})();
