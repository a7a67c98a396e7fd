// Live updates for a run page: every second, replace the live section with the server's
// freshly rendered one. Without JavaScript the page still works (reload, and the forms).
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.fetch) { return; }
  var url = live.getAttribute("data-fragment");
  // The server answers 304 while the run is unchanged (If-None-Match with the last ETag),
  // and X-Refresh-After says how long to wait: longer for a run that is slow to render.
  var etag = null;
  var every = 1;
  function refresh() {
    var headers = { "Accept": "text/html" };
    if (etag) { headers["If-None-Match"] = etag; }
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: headers })
      .then(function (response) {
        live.setAttribute("data-checked", String(Date.now()));
        var pace = parseInt(response.headers.get("X-Refresh-After") || "", 10);
        if (pace > 0) { every = pace; }
        if (response.status === 304 || !response.ok) { return null; }
        etag = response.headers.get("ETag");
        return response.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        // Keep open <details> open across refreshes.
        var open = Array.prototype.map.call(live.querySelectorAll("details[open]"), function (d) { return d.id; });
        live.innerHTML = html;
        open.forEach(function (id) { var d = id && document.getElementById(id); if (d) { d.open = true; } });
        live.setAttribute("data-refreshed", String(Date.now()));
        // Finished elsewhere (CLI, control plane): load the run's page, so the controls go
        // away. Not reload(): the page may be the answer to the form that started the run.
        var status = live.querySelector("[data-status]");
        if (status && status.getAttribute("data-status") !== "active" && document.getElementById("controls")) {
          window.location.assign(url.replace(/\/live$/, ""));
        }
      })
      .catch(function () { /* the next tick tries again */ })
      .then(function () { window.setTimeout(refresh, every * 1000); });
  }
  window.setTimeout(refresh, 1000);
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy"));
      if (target && navigator.clipboard) { navigator.clipboard.writeText(target.textContent); button.textContent = "Copied"; }
    });
  });
})();
