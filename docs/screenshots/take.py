"""Screenshots of the class page, a failing report and a full-marks report at
1280 and 390 px, for the documentation: `python docs/screenshots/take.py`
(needs chromium; the pages are tests/sample_pages.py's class of 32)."""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "tests"))

import chromium  # noqa: E402
import sample_pages  # noqa: E402


def main() -> None:
    browser = chromium.find_chromium()
    if browser is None:
        sys.exit("no chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as out:
        for kind, page in sample_pages.write_pages(Path(out)).items():
            for width in (1280, 390):
                print(chromium.screenshot(browser, page, width, HERE / f"{kind}-{width}.png"))


if __name__ == "__main__":
    main()
