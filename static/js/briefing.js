// Usage briefing page: when a PDF the user asked for becomes ready, download it once. The
// status element is swapped out by htmx, so the new link is looked up in the document.
document.addEventListener("htmx:afterSettle", () => {
  const link = document.querySelector("a[data-download-now]:not([data-done])");
  if (link) {
    link.dataset.done = "1";
    window.location.assign(link.href);
  }
});
