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

// A page about something still going (a running run) reloads itself,
// unless the user has started typing into one of its forms.
(function () {
  var el = document.querySelector("[data-refresh]");
  if (!el) return;
  var seconds = parseInt(el.getAttribute("data-refresh"), 10);
  if (!(seconds > 0)) return;
  window.setTimeout(function reload() {
    var typing = Array.prototype.some.call(document.querySelectorAll("input:not([type=hidden])"), function (i) {
      return i.value !== "" || i === document.activeElement;
    });
    if (typing) {
      window.setTimeout(reload, seconds * 1000);
      return;
    }
    window.location.reload();
  }, seconds * 1000);
})();
