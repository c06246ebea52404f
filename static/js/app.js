// Renewal Desk behaviour that needs script. No inline scripts anywhere: the CSP forbids them.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.classList.contains("js-autosubmit")) {
    target.form.requestSubmit();
  }
});
