// Bulk actions of the lists: "select all on this page" and the count of selected rows. The row
// checkboxes name their form (form="…"), so without script they still post as a plain form;
// script only adds the "select all" box and the count, which stay hidden without it.
(() => {
  const items = (formId) =>
    document.querySelectorAll(`input[data-bulk-item][form="${CSS.escape(formId)}"]`);

  const refresh = (formId) => {
    const boxes = Array.from(items(formId));
    const chosen = boxes.filter((box) => box.checked).length;
    document.querySelectorAll(`[data-bulk-count="${CSS.escape(formId)}"]`).forEach((count) => {
      count.textContent = (count.dataset.format || "{count}").replace("{count}", chosen);
    });
    document.querySelectorAll(`[data-bulk-all="${CSS.escape(formId)}"]`).forEach((all) => {
      all.checked = boxes.length > 0 && chosen === boxes.length;
      all.indeterminate = chosen > 0 && chosen < boxes.length;
    });
  };

  const init = () => {
    document.querySelectorAll("[data-bulk-script]").forEach((element) => {
      element.hidden = false;
    });
    document.querySelectorAll("[data-bulk-all]").forEach((all) => refresh(all.dataset.bulkAll));
  };

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.dataset.bulkAll) {
      items(target.dataset.bulkAll).forEach((box) => {
        box.checked = target.checked;
      });
      refresh(target.dataset.bulkAll);
    } else if (target.hasAttribute("data-bulk-item") && target.getAttribute("form")) {
      refresh(target.getAttribute("form"));
    }
  });
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
