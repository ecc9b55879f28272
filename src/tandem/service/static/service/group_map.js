// The bulk group-mapping page: filter the rows by name, tick every row shown (or the groups
// with no side), count what is ticked, and grey out the vendor choice for the client team.
// Without JavaScript the page still works: tick the boxes and preview.
(function () {
  "use strict";
  const form = document.getElementById("group-map");
  if (!form) return;
  const rows = Array.from(form.querySelectorAll("tbody tr[data-group]"));
  const filter = document.getElementById("group-filter");
  const shown = document.getElementById("select-shown");
  const count = document.getElementById("selected-count");
  const side = form.querySelector("select[name=side]");
  const vendor = form.querySelector("select[name=vendor]");
  form.querySelectorAll("[data-js-only]").forEach(function (el) { el.hidden = false; });

  function box(row) { return row.querySelector("input[name=groups]"); }
  function visible() { return rows.filter(function (row) { return !row.hidden; }); }

  function update() {
    const ticked = rows.filter(function (row) { return box(row).checked; }).length;
    const inView = visible();
    const tickedInView = inView.filter(function (row) { return box(row).checked; }).length;
    count.textContent = ticked.toLocaleString("en-US") + " of " +
      rows.length.toLocaleString("en-US") + " groups ticked";
    shown.checked = inView.length > 0 && tickedInView === inView.length;
    shown.indeterminate = tickedInView > 0 && tickedInView < inView.length;
  }

  filter.addEventListener("input", function () {
    const words = filter.value.trim().toLowerCase();
    rows.forEach(function (row) {
      row.hidden = words !== "" && !row.dataset.group.toLowerCase().includes(words);
    });
    update();
  });
  shown.addEventListener("change", function () {
    visible().forEach(function (row) { box(row).checked = shown.checked; });
    update();
  });
  form.querySelectorAll("[data-select]").forEach(function (button) {
    button.addEventListener("click", function () {
      const which = button.dataset.select;
      rows.forEach(function (row) {
        box(row).checked = which === "unmapped" ? row.dataset.side === "unmapped" : false;
      });
      update();
    });
  });
  form.addEventListener("change", function (event) {
    if (event.target.name === "groups") update();
  });
  function vendorState() {
    if (vendor && side) vendor.disabled = side.value === "client";
  }
  if (side) side.addEventListener("change", vendorState);
  vendorState();
  update();
})();
