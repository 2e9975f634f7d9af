/* The admin's language selector submits its form on change (no inline handler: CSP). */
"use strict";
document.querySelectorAll("form.language-switch select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});
