// Usage briefing page: when a PDF the user asked for becomes ready, download it once.
document.addEventListener("htmx:afterSettle", (event) => {
  const link = event.target.querySelector
    ? event.target.querySelector("a[data-download-now]")
    : null;
  if (link && !link.dataset.done) {
    link.dataset.done = "1";
    window.location.assign(link.href);
  }
});
