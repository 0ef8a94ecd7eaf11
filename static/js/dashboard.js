// Impact dashboard: complaint-rate and return-rate trends drawn with Chart.js (served from node_modules),
// with a dashed vertical line (annotation plugin) on each day a fix was applied. Every chart has a data
// table and a CSV link in the page, so nothing here is the only way to read the numbers.
(function () {
  "use strict";

  var source = document.getElementById("impact-chart-data");
  if (!source || typeof window.Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var Chart = window.Chart;
  var annotationPlugin = window["chartjs-plugin-annotation"];
  if (annotationPlugin) Chart.register(annotationPlugin);

  var OUTCOME_COLOURS = {
    improved: "#15803d",
    no_effect: "#b7791f",
    mixed: "#b7791f",
    worsened: "#b42318",
  };
  var OTHER_COLOUR = "#667085";

  function markerAnnotations() {
    var annotations = {};
    data.markers.forEach(function (marker, index) {
      if (data.labels.indexOf(marker.day) === -1) return;
      var colour = OUTCOME_COLOURS[marker.outcome] || OTHER_COLOUR;
      annotations["fix" + index] = {
        type: "line",
        scaleID: "x",
        value: marker.day,
        borderColor: colour,
        borderWidth: 2,
        borderDash: [6, 4],
        label: {
          display: true,
          content: marker.label,
          position: "start",
          yAdjust: (index % 3) * 22,
          backgroundColor: "rgba(255, 255, 255, 0.92)",
          color: colour,
          borderColor: colour,
          borderWidth: 1,
          font: { size: 11 },
          padding: 4,
        },
      };
    });
    return annotations;
  }

  function lineChart(canvasId, daily, rolling, labels, unit) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) return;
    new Chart(canvas, {
      type: "line",
      data: {
        labels: data.labels,
        datasets: [
          {
            label: labels[0],
            data: daily,
            borderColor: "rgba(37, 99, 235, 0.35)",
            backgroundColor: "rgba(37, 99, 235, 0.35)",
            borderWidth: 1,
            pointRadius: 0,
            spanGaps: true,
            tension: 0.2,
          },
          {
            label: labels[1],
            data: rolling,
            borderColor: "#2563eb",
            backgroundColor: "#2563eb",
            borderWidth: 2.5,
            pointRadius: 0,
            spanGaps: true,
            tension: 0.3,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { ticks: { maxTicksLimit: 8, maxRotation: 0 }, grid: { display: false } },
          y: { beginAtZero: true, ticks: { callback: function (value) { return value + unit; } } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14, boxHeight: 2 } },
          tooltip: {
            callbacks: {
              label: function (context) {
                var value = context.parsed.y;
                return context.dataset.label + ": " + (value === null ? "—" : value.toFixed(2) + unit);
              },
            },
          },
          annotation: { annotations: markerAnnotations() },
        },
      },
    });
  }

  var text = data.text || {};
  lineChart("complaint-chart", data.complaint_rate, data.complaint_rate_7d,
    [text.complaint || "complaint rate", text.complaint_7d || "7-day"], "‰");
  lineChart("returns-chart", data.return_rate, data.return_rate_7d,
    [text.returns || "return rate", text.returns_7d || "7-day"], "%");
})();
