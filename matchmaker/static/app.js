// Behaviour that used to sit in inline attributes, which the Content-Security-Policy forbids.
// Templates mark elements with data-* attributes; this file, served from 'self', wires them.
(function () {
  "use strict";

  function setWidths(root) {
    // <span data-width="42"> draws a bar 42% wide (style attributes are blocked too).
    for (const el of root.querySelectorAll("[data-width]")) {
      el.style.width = el.dataset.width + "%";
    }
  }

  document.addEventListener("click", function (event) {
    const confirmer = event.target.closest("[data-confirm]");
    if (confirmer && !window.confirm(confirmer.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    if (event.target.closest("[data-print]")) {
      window.print();
    }
  });

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (target.matches("[data-autosubmit]") && target.form) {
      target.form.submit();
    }
    if (target.matches("[data-check-all]")) {
      const name = target.dataset.checkAll;
      for (const box of document.querySelectorAll(`input[name="${name}"]`)) {
        box.checked = target.checked;
      }
    }
  });

  setWidths(document);
  window.matchmaker = { setWidths: setWidths };
})();
