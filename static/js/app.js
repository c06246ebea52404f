// Renewal Desk behaviour that needs script. No inline scripts anywhere: the CSP forbids them.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.classList.contains("js-autosubmit")) {
    target.form.requestSubmit();
  }
});

// A box that scrolls sideways (a wide table on a phone) can be scrolled with the keyboard too:
// while its content overflows it takes part in the tab order and is named after its table's
// caption or the nearest heading; once it fits again it leaves the tab order.
const SCROLL_BOXES = ".table-responsive, table, pre, .overflow-auto, .overflow-x-auto";

function scrollBoxName(box) {
  const caption = box.querySelector("caption");
  if (caption && caption.textContent.trim()) return caption.textContent.trim();
  const holder = box.closest(".card, section, main");
  const heading = holder && holder.querySelector("h1, h2, h3, h4, .card-header");
  return heading ? heading.textContent.trim() : "";
}

function markScrollBoxes() {
  for (const box of document.querySelectorAll(SCROLL_BOXES)) {
    const style = getComputedStyle(box);
    const scrolls =
      /(auto|scroll)/.test(style.overflowX + " " + style.overflowY) &&
      (box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1);
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.tabIndex = 0;
      box.dataset.scrollBox = "";
      const name = scrollBoxName(box);
      // A table keeps its own role (a region would hide that it is a table).
      if (name && !box.hasAttribute("aria-label") && box.tagName !== "TABLE") {
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", name);
      }
    } else if (!scrolls && box.hasAttribute("data-scroll-box")) {
      box.removeAttribute("tabindex");
      box.removeAttribute("data-scroll-box");
      if (box.getAttribute("role") === "region") {
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
}

let scrollBoxesPending = false;
function markScrollBoxesSoon() {
  if (scrollBoxesPending) return;
  scrollBoxesPending = true;
  requestAnimationFrame(() => {
    scrollBoxesPending = false;
    markScrollBoxes();
  });
}

document.addEventListener("DOMContentLoaded", markScrollBoxes);
window.addEventListener("load", markScrollBoxes);
window.addEventListener("resize", markScrollBoxesSoon);
document.addEventListener("htmx:afterSettle", markScrollBoxesSoon);
