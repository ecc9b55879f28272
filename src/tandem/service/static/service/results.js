/* Service-level pages: draw the Plotly figures the page embeds (json_script), and submit
   the filter bar when a choice changes. plotly.js is served from the Python package. */
(function () {
  "use strict";

  function draw(root) {
    if (typeof Plotly === "undefined") return;
    root.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.dataset.figure);
      if (!source || element.dataset.drawn) return;
      var figure = JSON.parse(source.textContent);
      element.dataset.drawn = "1";
      Plotly.newPlot(element, figure.data, figure.layout, figure.config);
    });
  }

  function autoSubmit(root) {
    root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () { form.requestSubmit(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    draw(document);
    autoSubmit(document);
  });
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
