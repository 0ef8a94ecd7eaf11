// Issue-library pages: bulk selection in a queue, and the daily chart of an issue.
// Every page works without this file (the bulk buttons submit whatever is ticked).
(function () {
  "use strict";

  // --- Bulk selection: "select all", a live count, buttons enabled only with a selection.
  document.querySelectorAll("form[data-bulk-form]").forEach(function (form) {
    var boxes = Array.prototype.slice.call(form.querySelectorAll('input[name="issue_ids"]'));
    var all = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-bulk-count]");
    var buttons = form.querySelectorAll("[data-bulk-button]");
    var emptyText = count ? count.textContent : "";

    function update() {
      var selected = boxes.filter(function (box) { return box.checked; }).length;
      boxes.forEach(function (box) {
        var row = box.closest("tr");
        if (row) row.classList.toggle("is-selected", box.checked);
      });
      buttons.forEach(function (button) { button.disabled = selected === 0; });
      if (count) count.textContent = selected ? count.dataset.template.replace("__N__", selected) : emptyText;
      if (all) {
        all.checked = selected > 0 && selected === boxes.length;
        all.indeterminate = selected > 0 && selected < boxes.length;
      }
    }

    boxes.forEach(function (box) { box.addEventListener("change", update); });
    if (all) {
      all.addEventListener("change", function () {
        boxes.forEach(function (box) { box.checked = all.checked; });
        update();
      });
    }
    update();
  });

  // --- Long lists: fold the rest behind a "show N more" link (without JavaScript everything shows).
  document.querySelectorAll("[data-show]").forEach(function (link) {
    var target = document.getElementById(link.dataset.show);
    var toggle = link.parentElement;
    if (!target || !toggle) return;
    target.hidden = true;
    toggle.hidden = false;
    link.addEventListener("click", function (event) {
      event.preventDefault();
      target.hidden = false;
      toggle.hidden = true;
    });
  });

  // --- Daily tickets of one issue (Chart.js, served from node_modules), with the action date marked.
  var source = document.getElementById("issue-chart-data");
  var canvas = document.getElementById("issue-chart");
  if (!source || !canvas || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var Chart = window.Chart;
  var annotationPlugin = window["chartjs-plugin-annotation"];
  if (annotationPlugin) Chart.register(annotationPlugin);

  var annotations = {};
  if (data.action_date && data.labels.indexOf(data.action_date) !== -1) {
    annotations.action = {
      type: "line",
      scaleID: "x",
      value: data.action_date,
      borderColor: "#15803d",
      borderWidth: 2,
      borderDash: [6, 4],
      label: {
        display: true,
        // Chart.js draws text on the canvas: the action text is never parsed as HTML.
        content: data.action_label,
        position: "start",
        backgroundColor: "rgba(255, 255, 255, 0.94)",
        color: "#15803d",
        borderColor: "#15803d",
        borderWidth: 1,
        font: { size: 11 },
        padding: 4,
      },
    };
  }

  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{
        label: data.text.tickets,
        data: data.counts,
        backgroundColor: data.labels.map(function (day) {
          return data.action_date && day >= data.action_date ? "rgba(21, 128, 61, 0.55)" : "rgba(37, 99, 235, 0.6)";
        }),
        borderRadius: 2,
        barPercentage: 0.9,
        categoryPercentage: 1.0,
      }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      scales: {
        x: { grid: { display: false }, ticks: { maxTicksLimit: 9, maxRotation: 0, callback: function (value) {
          return this.getLabelForValue(value).slice(5);
        } } },
        y: { beginAtZero: true, ticks: { precision: 0 } },
      },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { label: function (context) { return data.text.tooltip + " " + context.parsed.y; } } },
        annotation: { annotations: annotations },
      },
    },
  });
})();
