// Polls the status URL of every .job-progress element every 2 s and updates its bar and texts;
// reloads the page when the job ends so the page shows its result. No external request.
(function () {
  "use strict";
  function poll(box) {
    var url = box.getAttribute("data-status-url");
    if (!url || box.getAttribute("data-finished")) { return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (p) {
        if (!p) { return; }
        var bar = box.querySelector("progress");
        if (bar) { bar.value = p.percent; bar.textContent = p.percent + " %"; }
        box.querySelectorAll("[data-job]").forEach(function (el) {
          var v = p[el.getAttribute("data-job")];
          el.textContent = v === null || v === undefined ? "" : v;
        });
        var rate = box.querySelector("[data-job-rate]");
        if (rate) { rate.hidden = !p.rate; }
        var left = box.querySelector("[data-job-left]");
        if (left) { left.hidden = !p.time_left; }
        if (["succeeded", "failed", "cancelled"].indexOf(p.status) >= 0) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(box); }, 2000);
        }
      })
      .catch(function () { window.setTimeout(function () { poll(box); }, 5000); });
  }
  document.querySelectorAll(".job-progress").forEach(function (box) {
    window.setTimeout(function () { poll(box); }, 1000);
  });
})();
