// Live progress for one import job: polls the job's JSON every second until it is done or failed.
// Row errors arrive in slices (?since=N) and are appended with textContent, never as HTML.
(function () {
  "use strict";

  var root = document.getElementById("import-job");
  if (!root) return;
  var url = root.dataset.progressUrl;
  if (!url || root.dataset.status === "done" || root.dataset.status === "failed") return;

  var POLL_MS = 1000;
  var MAX_BACKOFF_MS = 15000;
  var errorsShown = parseInt(root.dataset.errorsShown, 10) || 0;
  var bar = root.querySelector("[data-progress-bar]");
  var fill = bar ? bar.querySelector(".import-progress__bar") : null;
  var statusTag = root.querySelector(".import-status");
  var tbody = document.getElementById("import-errors");
  var errorsTable = document.querySelector("[data-errors-table]");
  var errorsEmpty = document.querySelector("[data-errors-empty]");
  var delay = POLL_MS;

  function setField(name, value) {
    var text = value === null || value === undefined ? "?" : String(value);
    document.querySelectorAll('[data-progress-field="' + name + '"]').forEach(function (element) {
      element.textContent = text;
    });
  }

  function cell(text, className) {
    var td = document.createElement("td");
    if (className) td.className = className;
    td.textContent = text === null || text === undefined ? "" : String(text);
    return td;
  }

  function appendErrors(errors) {
    if (!tbody || !errors.length) return;
    errors.forEach(function (error) {
      var tr = document.createElement("tr");
      tr.appendChild(cell(error.row === null ? "—" : error.row, "col-row"));
      tr.appendChild(cell(error.column));
      tr.appendChild(cell(error.message));
      tr.appendChild(cell(error.value, "mono"));
      tbody.appendChild(tr);
    });
    errorsShown += errors.length;
    if (errorsTable) errorsTable.hidden = false;
    if (errorsEmpty) errorsEmpty.hidden = true;
  }

  function render(data) {
    ["processed_rows", "total_rows", "imported", "duplicates", "failed", "percent", "message", "status_label", "errors_total"]
      .forEach(function (name) { setField(name, data[name]); });
    if (fill) fill.style.width = Math.max(0, Math.min(100, data.percent)) + "%";
    if (bar) {
      bar.setAttribute("aria-valuenow", data.percent);
      bar.classList.toggle("is-indeterminate", data.status === "running" && !data.total_rows);
      bar.classList.toggle("is-done", data.status === "done");
      bar.classList.toggle("is-failed", data.status === "failed");
    }
    if (statusTag) statusTag.className = "import-status import-status--" + data.status;
    if (data.errors_since === errorsShown) appendErrors(data.errors || []);
  }

  function schedule(ms) {
    window.setTimeout(poll, ms);
  }

  function poll() {
    fetch(url + "?since=" + errorsShown, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        render(data);
        delay = POLL_MS;
        if (errorsShown < data.errors_total) {
          schedule(0); // more errors waiting: fetch the next slice now
        } else if (data.finished) {
          // Reload once so the server renders the final page (warnings, notes).
          window.setTimeout(function () { window.location.reload(); }, 800);
        } else {
          schedule(POLL_MS);
        }
      })
      .catch(function () {
        // Network hiccup or an expired session: back off instead of hammering the server.
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        schedule(delay);
      });
  }

  schedule(POLL_MS);
})();
