// `npm run build`: copy the prebuilt bpmn-js viewer out of node_modules into
// service/web/static/dist/ (gitignored), so that Flask and tools/render_diagrams.py
// serve it locally.  No bundler: bpmn-js ships self-contained UMD builds.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "node_modules", "bpmn-js");
const out = join(root, "service", "web", "static", "dist", "bpmn-js");
const version = JSON.parse(readFileSync(join(src, "package.json"), "utf8")).version;

const files = [
  "dist/bpmn-viewer.production.min.js",
  "dist/bpmn-navigated-viewer.production.min.js",
  "dist/assets/diagram-js.css",
  "dist/assets/bpmn-js.css",
  "dist/assets/bpmn-font/css/bpmn.css",
  "dist/assets/bpmn-font/css/bpmn-embedded.css",
  "dist/assets/bpmn-font/font",
  "LICENSE",
];

rmSync(out, { recursive: true, force: true });
for (const f of files) {
  const target = join(out, f.replace(/^dist\//, ""));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(join(src, f), target, { recursive: true });
}
writeFileSync(join(out, "VERSION"), `${version}\n`);
console.log(`build: bpmn-js ${version} -> ${out.slice(root.length + 1)}`);

// htmx (the task list's partial refreshes), from node_modules as well.
const htmxOut = join(root, "service", "web", "static", "dist", "htmx");
rmSync(htmxOut, { recursive: true, force: true });
mkdirSync(htmxOut, { recursive: true });
for (const f of ["dist/htmx.min.js", "LICENSE"]) cpSync(join(root, "node_modules", "htmx.org", f), join(htmxOut, f.replace(/^dist\//, "")));
console.log(`build: htmx -> ${htmxOut.slice(root.length + 1)}`);
