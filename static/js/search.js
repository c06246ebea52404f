// The navbar's search box: "/" focuses it from anywhere except while typing in a field
// (no inline scripts: the CSP forbids them).
document.addEventListener("keydown", (event) => {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) {
    return;
  }
  const active = document.activeElement;
  if (
    active instanceof HTMLInputElement ||
    active instanceof HTMLTextAreaElement ||
    active instanceof HTMLSelectElement ||
    (active instanceof HTMLElement && active.isContentEditable)
  ) {
    return;
  }
  const box = document.getElementById("global-search");
  if (!(box instanceof HTMLInputElement)) {
    return;
  }
  // On a narrow screen the box sits in the collapsed menu: open the menu first.
  if (box.offsetParent === null) {
    const toggler = document.querySelector(".navbar-toggler");
    if (toggler instanceof HTMLElement && toggler.offsetParent !== null) {
      toggler.click();
    }
  }
  event.preventDefault();
  box.focus();
  box.select();
});
