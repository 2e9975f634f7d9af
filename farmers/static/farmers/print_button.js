// The annual report's "Print" button: opens the browser's print dialog (no inline handler, CSP).
(function () {
  "use strict";
  document.querySelectorAll(".annual-print").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
