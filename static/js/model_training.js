// The model page's training run: polls its JSON every second while it is queued or running,
// moves the bar and the stage, and reloads once it ends so the new version's card appears.
// Text arrives with textContent, never as HTML.
(function () {
  "use strict";

  var root = document.getElementById("model-training");
  if (!root) return;
  var url = root.dataset.progressUrl;
  if (!url || (root.dataset.status !== "queued" && root.dataset.status !== "running")) return;

  var POLL_MS = 1000;
  var MAX_BACKOFF_MS = 15000;
  var delay = POLL_MS;
  var bar = root.querySelector("[data-training-bar]");
  var fill = bar ? bar.querySelector(".import-progress__bar") : null;
  var statusTag = root.querySelector("[data-training-field=status_label]");

  function setField(name, value) {
    root.querySelectorAll('[data-training-field="' + name + '"]').forEach(function (element) {
      element.textContent = value === null || value === undefined ? "" : String(value);
    });
  }

  function render(run) {
    ["status_label", "stage_label", "percent", "outcome"].forEach(function (name) { setField(name, run[name]); });
    if (run.finished) setField("reason", run.reason);
    if (fill) fill.style.width = Math.max(0, Math.min(100, run.percent)) + "%";
    if (bar) {
      bar.setAttribute("aria-valuenow", run.percent);
      bar.classList.toggle("is-done", run.status === "done");
      bar.classList.toggle("is-failed", run.status === "failed");
    }
    if (statusTag) {
      statusTag.className = "import-status import-status--" + (run.status === "queued" ? "running" : run.status);
    }
    root.dataset.status = run.status;
  }

  function schedule(ms) {
    window.setTimeout(poll, ms);
  }

  function poll() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        delay = POLL_MS;
        if (!data.run) return;
        render(data.run);
        if (data.run.finished) {
          // Reload once so the server renders the new version's card and the gate's decision.
          window.setTimeout(function () { window.location.reload(); }, 1500);
        } else {
          schedule(POLL_MS);
        }
      })
      .catch(function () {
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        schedule(delay);
      });
  }

  schedule(POLL_MS);
})();
