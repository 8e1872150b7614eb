// Phoenix dashboard: progressive niceties only; every page and form works
// without this script.
"use strict";
document.addEventListener("submit", function (ev) {
  var button = ev.submitter || ev.target.querySelector("button[type=submit]");
  if (!button) return;
  var question = button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    ev.preventDefault();
    return;
  }
  var busy = button.getAttribute("data-busy");
  if (busy) {
    // Disable after the submit is under way, so the button's value still goes.
    window.setTimeout(function () { button.disabled = true; button.textContent = busy; }, 0);
  }
});
