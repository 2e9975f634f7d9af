// The import upload form: the button is disabled once pressed, so a file is sent only once.
(function () {
  "use strict";
  var form = document.getElementById("import-upload");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    var button = form.querySelector("input[type=submit]");
    if (button.disabled) { event.preventDefault(); return; }
    button.disabled = true;
  });
})();
