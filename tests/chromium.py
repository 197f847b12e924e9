"""Headless Chromium for the layout checks: find it, measure a page, screenshot it.

Measuring runs a script we inject into a copy of the page and reads what it
wrote back with ``--dump-dom``: one chromium process per page and width, no
extra dependency (no node or playwright, no DevTools websocket client), and the
page under test keeps no script of ours. Headless windows are at least 500 px
wide, so the copy is laid out in an iframe of the width asked for, and posts
what it measured to the page around it."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")
HEIGHT_PX = 900
TIMEOUT_S = 60

# Run once the page has laid out: every <details> opened (folded content is
# still content), then what overflows, what is too tall and what has no words.
MEASURE = r"""
<script>
(function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  var width = document.documentElement.clientWidth, found = [];
  function where(el) {
    var id = el.id || (el.closest("[id]") || {}).id || "";
    return el.tagName.toLowerCase() + (el.className && el.className.baseVal === undefined ? "." + el.className : "") + (id ? " in #" + id : "");
  }
  function scroller(el) {
    for (var p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o === "auto" || o === "scroll") { return p; }
    }
    return el;
  }
  if (document.documentElement.scrollWidth > width + 1) {
    found.push("the page is " + document.documentElement.scrollWidth + " px wide, wider than its " + width + " px");
  }
  document.querySelectorAll("table, figure, svg, img, pre").forEach(function (el) {
    var box = scroller(el);  // inside a box that scrolls, the box must fit
    var r = box.getBoundingClientRect();
    if (r.width && (r.right > width + 1 || r.left < -1)) {
      found.push(where(el) + " spans " + Math.round(r.left) + "–" + Math.round(r.right) + " px of a " + width + " px page");
    }
  });
  document.querySelectorAll("tr").forEach(function (row) {
    var style = getComputedStyle(row.cells[0] || row), size = parseFloat(style.fontSize);
    var line = parseFloat(style.lineHeight) || 1.2 * size, h = row.getBoundingClientRect().height;
    if (h > 5 * line + 16) {
      found.push(where(row) + " row '" + row.textContent.trim().slice(0, 30) + "' is " + Math.round(h) + " px tall (" + (h / line).toFixed(1) + " lines)");
    }
  });
  document.querySelectorAll("svg, img").forEach(function (el) {
    if (el.closest("[aria-hidden=true]")) { return; }
    var named = el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("alt")
      || (el.tagName.toLowerCase() === "svg" && el.querySelector(":scope > title"));
    if (!named) { found.push(where(el) + " has no text alternative"); }
  });
  parent.postMessage(JSON.stringify({width: width, problems: found}), "*");
})();
</script>
"""
FRAME = """<!doctype html><html><body style="margin:0">
<iframe src="{src}" style="width:{width}px;height:{height}px;border:0;display:block"></iframe>
<pre id="tg-layout"></pre>
<script>addEventListener("message", function (e) {{ document.getElementById("tg-layout").textContent = e.data; }});</script>
</body></html>
"""


def find_chromium() -> str | None:
    return next((found for name in ("chromium", "chromium-browser", "google-chrome") if (found := shutil.which(name))),
                None)


def _run(chromium: str, *args: str) -> str:
    with tempfile.TemporaryDirectory(prefix="tg-chromium-") as profile:
        done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", *args],
                              capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode:
        raise RuntimeError(f"chromium exited {done.returncode}: {done.stderr[-2000:]}")
    return done.stdout


def layout_problems(chromium: str, page: Path, width_px: int) -> list[str]:
    """What is wrong with ``page``'s layout at ``width_px`` (empty: nothing)."""
    html = page.read_text(encoding="utf-8")
    measured = page.with_name(f".measure-{width_px}-{page.name}")  # beside it: its links stay right
    frame = page.with_name(f".frame-{width_px}-{page.name}")
    measured.write_text(html.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    frame.write_text(FRAME.format(src=measured.name, width=width_px, height=HEIGHT_PX), encoding="utf-8")
    try:
        dom = _run(chromium, f"--window-size={max(width_px, 500) + 40},{HEIGHT_PX + 40}",
                   "--virtual-time-budget=5000", "--dump-dom", frame.as_uri())
    finally:
        measured.unlink()
        frame.unlink()
    found = re.search(r'<pre id="tg-layout">(.*?)</pre>', dom, re.S)
    if found is None:
        raise RuntimeError(f"the measuring script did not run on {page}: {dom[:500]}")
    report = json.loads(found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    if report["width"] != width_px:
        raise RuntimeError(f"chromium laid {page} out {report['width']} px wide, not {width_px}")
    return report["problems"]


def screenshot(chromium: str, page: Path, width_px: int, path: Path, height_px: int = 1400) -> Path:
    """``page`` at ``width_px`` (in a frame of that width where a window cannot be so narrow)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = page.with_name(f".shot-{width_px}-{page.name}")
    frame.write_text(FRAME.format(src=page.name, width=width_px, height=height_px), encoding="utf-8")
    try:
        _run(chromium, f"--window-size={max(width_px, 500)},{height_px}", f"--screenshot={path}", frame.as_uri())
    finally:
        frame.unlink()
    return path
