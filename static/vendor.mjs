// Copies the front-end files the app uses from node_modules/ into static/vendor/.
// Run `npm ci && npm run vendor` after changing package.json; commit static/vendor/.
// The app itself never needs npm or a CDN: the copied files are committed.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";

const root = dirname(new URL(import.meta.url).pathname);
const nm = join(root, "..", "node_modules");
const out = join(root, "vendor");

rmSync(out, { recursive: true, force: true });
const copy = (from, to) => {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  cpSync(join(nm, from), join(out, to), { recursive: true });
};

copy("bootstrap/dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css");
copy("bootstrap/dist/js/bootstrap.bundle.min.js", "bootstrap/bootstrap.bundle.min.js");
copy("bootstrap/LICENSE", "bootstrap/LICENSE");
copy("bootstrap-icons/font/bootstrap-icons.min.css", "bootstrap-icons/bootstrap-icons.min.css");
copy("bootstrap-icons/font/fonts/bootstrap-icons.woff2", "bootstrap-icons/fonts/bootstrap-icons.woff2");
copy("bootstrap-icons/font/fonts/bootstrap-icons.woff", "bootstrap-icons/fonts/bootstrap-icons.woff");
copy("bootstrap-icons/LICENSE", "bootstrap-icons/LICENSE");
copy("htmx.org/dist/htmx.min.js", "htmx/htmx.min.js");
copy("htmx.org/LICENSE", "htmx/LICENSE");
copy("chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js");
copy("chart.js/LICENSE.md", "chart.js/LICENSE.md");

// Noto Sans SC (SIL OFL): regular and bold, woff2 only (every browser we support reads it).
const font = "@fontsource/noto-sans-sc";
copy(`${font}/LICENSE`, "noto-sans-sc/LICENSE");
for (const weight of ["400", "700"]) {
  const css = readFileSync(join(nm, font, `${weight}.css`), "utf8").replace(
    /, url\(\.\/files\/[^)]+\.woff\) format\('woff'\)/g,
    "",
  );
  mkdirSync(join(out, "noto-sans-sc"), { recursive: true });
  writeFileSync(join(out, "noto-sans-sc", `${weight}.css`), css);
  for (const f of readdirSync(join(nm, font, "files"))) {
    if (f.endsWith(`-${weight}-normal.woff2`)) copy(`${font}/files/${f}`, `noto-sans-sc/files/${f}`);
  }
}
// The minified files end with a source-map comment, but the maps are not shipped: Django's
// manifest storage (collectstatic with DEBUG=false) refuses a reference to a missing file.
for (const file of [
  "bootstrap/bootstrap.min.css",
  "bootstrap/bootstrap.bundle.min.js",
  "chart.js/chart.umd.min.js",
]) {
  const path = join(out, file);
  writeFileSync(path, readFileSync(path, "utf8").replace(/\n?\/[*/]# sourceMappingURL=[^\n]*\s*$/, "\n"));
}
console.log("vendored into", out);
