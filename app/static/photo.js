// Item photo fields: a photo over the size limit is named next to the field before anything is
// sent, so the form and what was typed into it stay as they are. Without script the server
// refuses it and shows the form again with the same words.
(function () {
  "use strict";

  function tooLarge(input) {
    var max = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    return !!file && file.size > max;
  }

  function show(input) {
    var box = document.getElementById(input.getAttribute("data-message"));
    var bad = tooLarge(input);
    if (box) {
      box.textContent = bad ? input.getAttribute("data-too-large") : "";
      box.hidden = !bad;
    }
    input.setAttribute("aria-invalid", bad ? "true" : "false");
    return !bad;
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
      input.addEventListener("change", function () { show(input); });
      input.form.addEventListener("submit", function (event) {
        if (!show(input)) {
          event.preventDefault();
          input.focus();
        }
      });
    });
  });
})();
