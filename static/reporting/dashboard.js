// The dashboard's charts: drawn from the numbers the page embeds (json_script, no inline
// script under the CSP). Every chart repeats a table shown next to it.
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-charts");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var charts = JSON.parse(source.textContent);
    var locale = document.documentElement.lang || undefined;
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var spec = charts[canvas.dataset.chart];
      if (!spec) {
        return;
      }
      // Counts take whole-number ticks; percents run from 0 to 100.
      var y = spec.percent
        ? { beginAtZero: true, max: 100 }
        : { beginAtZero: true, ticks: { precision: 0 } };
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: spec.labels, datasets: spec.datasets },
        options: {
          locale: locale,
          animation: false,
          aspectRatio: 2,
          plugins: { legend: { display: spec.datasets.length > 1 } },
          scales: { y: y },
        },
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
