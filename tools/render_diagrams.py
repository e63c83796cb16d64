"""Open every ``bpmn/*.bpmn`` in bpmn-js (headless Chromium) and write ``docs/sop/<name>.svg`` and ``.png``.

The viewer is the one ``make assets`` copies into ``service/web/static/dist/bpmn-js/`` (npm package
``bpmn-js``, no bundler). The page and its scripts are served to the browser by Playwright's request
routing from the work tree: no server, no port, and every other request is refused, so nothing is
fetched from outside.

Exit status: 0 when every diagram imported without warnings or errors, 1 otherwise, 2 when the viewer
or the browser is missing. ``--check`` imports without writing anything.

    .venv/bin/python tools/render_diagrams.py [--check] [--out docs/sop] [bpmn/x.bpmn ...]
"""

from __future__ import annotations

import argparse
import mimetypes
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BPMN_DIR = ROOT / "bpmn"
OUT_DIR = ROOT / "docs" / "sop"
STATIC_DIR = ROOT / "service" / "web" / "static"
VIEWER_DIR = STATIC_DIR / "dist" / "bpmn-js"
VIEWER_JS = VIEWER_DIR / "bpmn-viewer.production.min.js"
CHROMIUM = Path("/usr/bin/chromium")
# Flags for a root, offline, headless machine: no sandbox (root), and none of Chromium's own
# background connections (they would only be refused).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The page's origin. Never resolved: Playwright answers every request under it from the work tree.
ORIGIN = "http://alur-render.invalid"
TIMEOUT_MS = 30_000
MARGIN = 20  # px around the diagram in the PNG
WATERMARK_H = 30  # px below it for the bpmn.io logo, which the bpmn-js licence keeps visible
MAX_SIDE = 6000  # px: cap of the PNG's viewport (a bigger diagram is scaled down to fit)


PAGE = """<!doctype html>
<html lang="id">
<head>
<meta charset="utf-8">
<title>alur: bpmn-js</title>
<link rel="stylesheet" href="/static/dist/bpmn-js/assets/diagram-js.css">
<link rel="stylesheet" href="/static/dist/bpmn-js/assets/bpmn-js.css">
<style>
  html, body { margin: 0; padding: 0; width: 100%; height: 100%; background: #fff; overflow: hidden; }
  #canvas { width: 100%; height: 100%; }
</style>
<script src="/static/dist/bpmn-js/bpmn-viewer.production.min.js"></script>
</head>
<body>
<div id="canvas"></div>
<script>
  // bpmn-js's own text styles (12px in tasks, 11px external labels), as the modeler shows them:
  // tools/scaffold/bpmn_layout.py sized the shapes and places the labels for them.
  window.viewer = new BpmnJS({ container: "#canvas" });
  // Import one diagram; never throws: errors and warnings come back as strings.
  window.alurImport = async (xml) => {
    const fmt = (w) => String((w && w.message) || w);
    try {
      const { warnings } = await window.viewer.importXML(xml);
      const canvas = window.viewer.get("canvas");
      canvas.zoom("fit-viewport");
      const inner = canvas.viewbox().inner;
      return { error: null, warnings: warnings.map(fmt),
               bounds: { x: inner.x, y: inner.y, width: inner.width, height: inner.height } };
    } catch (err) {
      return { error: fmt(err), warnings: (err.warnings || []).map(fmt), bounds: null };
    }
  };
  // Show the whole diagram at 1:1 with a margin (the viewport was sized to it), or fit if it is bigger.
  window.alurFit = (margin) => {
    const canvas = window.viewer.get("canvas");
    canvas.resized();  // the page's viewport was just resized
    const inner = canvas.viewbox().inner;
    const outer = canvas.viewbox().outer;
    if (inner.width + 2 * margin <= outer.width && inner.height + 2 * margin <= outer.height) {
      canvas.viewbox({ x: inner.x - margin, y: inner.y - margin, width: outer.width, height: outer.height });
    } else {
      canvas.zoom("fit-viewport", "auto");
    }
  };
  window.alurSvg = async () => (await window.viewer.saveSVG()).svg;
  // ids of every element on the canvas (shapes, connections, labels' owners, root)
  window.alurIds = () => window.viewer.get("elementRegistry").getAll().map((e) => e.id);
  // Every rendered text: its element (a label's owner for external labels), its kind, the shape's
  // bounds, the text's box and each line's text and box in diagram coordinates, and for tasks the
  // boxes of the icons drawn in them (every path of the shape's visual).
  window.alurTexts = () => {
    const registry = window.viewer.get("elementRegistry");
    const box = (b, dx, dy) => ({ x: b.x + dx, y: b.y + dy, width: b.width, height: b.height });
    const out = [];
    for (const element of registry.getAll()) {
      const visual = registry.getGraphics(element)?.querySelector(".djs-visual");
      const text = visual?.querySelector("text");
      if (!text || !text.textContent.trim()) continue;
      const owner = element.labelTarget || element;
      const lines = [...text.querySelectorAll("tspan")].map((t) => ({
        text: t.textContent, box: box(t.getBBox(), element.x, element.y) }));
      out.push({
        id: owner.id, type: owner.type, external: !!element.labelTarget,
        name: owner.businessObject?.name || "",
        shape: { x: owner.x, y: owner.y, width: owner.width, height: owner.height },
        text: box(text.getBBox(), element.x, element.y), lines,
        icons: element.labelTarget ? []
          : [...visual.querySelectorAll("path")].map((p) => box(p.getBBox(), element.x, element.y)),
      });
    }
    return out;
  };
  window.alurReady = true;
</script>
</body>
</html>
"""


@dataclass
class ImportResult:
    name: str
    error: str | None
    warnings: list[str] = field(default_factory=list)
    bounds: dict[str, float] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.warnings


def diagrams(paths: Sequence[str] = ()) -> list[Path]:
    return [Path(p).resolve() for p in paths] if paths else sorted(BPMN_DIR.glob("*.bpmn"))


def missing_prerequisites() -> str | None:
    """Why the viewer cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (make sysdeps installs Debian's chromium)"
    if not VIEWER_JS.exists():
        return f"{VIEWER_JS.relative_to(ROOT)} is missing (make assets builds it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (make venv installs the dev extras)"
    return None


def _serve(route: Any) -> None:
    """Answer the page's requests from the work tree; refuse everything else."""
    url: str = route.request.url
    if not url.startswith(ORIGIN + "/"):
        route.abort("blockedbyclient")
        return
    rel = url[len(ORIGIN) + 1 :].split("?", 1)[0].split("#", 1)[0]
    if rel in ("", "index.html"):
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=PAGE)
        return
    if rel.startswith("static/"):
        path = (STATIC_DIR / rel[len("static/") :]).resolve()
        if path.is_relative_to(STATIC_DIR) and path.is_file():
            ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            route.fulfill(status=200, content_type=ctype, body=path.read_bytes())
            return
    route.fulfill(status=404, content_type="text/plain", body="not found")


@contextmanager
def browser_session() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright (no browser download); yields the Browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield browser
        finally:
            browser.close()


class ViewerPage:
    """One browser page with the bpmn-js viewer loaded, reused for every diagram."""

    def __init__(self, browser: Any, width: int = 1600, height: int = 1000) -> None:
        self.page = browser.new_page(viewport={"width": width, "height": height})
        self.page.set_default_timeout(TIMEOUT_MS)
        self.page_errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        self.page.route("**/*", _serve)
        self.page.goto(ORIGIN + "/index.html", wait_until="load")
        self.page.wait_for_function("window.alurReady === true")
        if self.page_errors:
            raise RuntimeError(f"viewer page failed: {self.page_errors}")

    def close(self) -> None:
        self.page.close()

    def load(self, path: Path) -> ImportResult:
        self.page_errors.clear()
        raw: dict[str, Any] = self.page.evaluate("xml => window.alurImport(xml)", path.read_text(encoding="utf-8"))
        res = ImportResult(path.stem, raw["error"], list(raw["warnings"]), raw["bounds"])
        if self.page_errors and res.error is None:
            res.error = "; ".join(self.page_errors)
        return res

    def element_ids(self) -> set[str]:
        return set(self.page.evaluate("() => window.alurIds()"))

    def texts(self) -> list[dict[str, Any]]:
        """Every rendered text of the loaded diagram (see ``window.alurTexts`` in the page)."""
        found: list[dict[str, Any]] = self.page.evaluate("() => window.alurTexts()")
        return found

    def svg(self) -> str:
        svg: str = self.page.evaluate("() => window.alurSvg()")
        return svg

    def png(self, bounds: dict[str, float], out: Path) -> None:
        """Resize the viewport to the diagram (1:1 up to MAX_SIDE), fit it, and screenshot the canvas."""
        w = min(MAX_SIDE, int(bounds["width"]) + 2 * MARGIN)
        h = min(MAX_SIDE, int(bounds["height"]) + 2 * MARGIN + WATERMARK_H)
        self.page.set_viewport_size({"width": w, "height": h})
        self.page.evaluate("m => window.alurFit(m)", MARGIN)
        self.page.locator("#canvas").screenshot(path=str(out), animations="disabled")


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("bpmn", nargs="*", help="diagrams (default: bpmn/*.bpmn)")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="output folder (default: docs/sop)")
    ap.add_argument("--check", action="store_true", help="import only; write nothing")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()

    why = missing_prerequisites()
    if why:
        print(f"render_diagrams: {why}", file=sys.stderr)
        return 2
    paths = diagrams(args.bpmn)
    if not paths:
        print("render_diagrams: no diagrams", file=sys.stderr)
        return 1
    if not args.check:
        args.out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with browser_session() as browser:
        viewer = ViewerPage(browser)
        try:
            for path in paths:
                res = viewer.load(path)
                if not res.ok:
                    failed += 1
                    print(f"FAIL {path.name}: error={res.error!r} warnings={res.warnings}", file=sys.stderr)
                    continue
                if args.check or res.bounds is None:
                    print(f"ok   {path.name}")
                    continue
                svg_out, png_out = args.out / f"{res.name}.svg", args.out / f"{res.name}.png"
                svg_out.write_text(viewer.svg(), encoding="utf-8")
                viewer.png(res.bounds, png_out)
                print(f"ok   {path.name} -> {_shown(svg_out)}, {_shown(png_out)}")
        finally:
            viewer.close()
    print(f"render_diagrams: {len(paths) - failed} ok, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
