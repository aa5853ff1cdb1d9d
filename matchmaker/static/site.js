// Behaviour that pages ask for with data attributes, so no page needs inline script
// (the Content-Security-Policy forbids it). Everything works without this file too.
(function () {
  "use strict";
  // Navigation: opening one menu closes the others; a click elsewhere or Escape closes all.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (d !== except) d.removeAttribute("open");
    });
  }
  document.addEventListener("toggle", function (e) {
    if (e.target.matches && e.target.matches("details.menu") && e.target.open) closeMenus(e.target);
  }, true);
  document.addEventListener("click", function (e) {
    if (!e.target.closest("details.menu")) closeMenus(null);
    var all = e.target.closest("[data-check-all]");
    if (all) {
      document.querySelectorAll("input[name='" + all.dataset.checkAll + "']").forEach(function (c) {
        c.checked = all.checked;
      });
    }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") closeMenus(null);
    var button = e.target.closest && e.target.closest("label.nav-button");
    if (button && (e.key === "Enter" || e.key === " ")) {
      e.preventDefault();
      document.getElementById(button.htmlFor).click();
    }
  });
  document.addEventListener("submit", function (e) {
    var button = e.submitter && e.submitter.closest("[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) e.preventDefault();
  });
  document.addEventListener("change", function (e) {
    if (e.target.matches("[data-autosubmit]")) e.target.form.submit();
  });
})();
