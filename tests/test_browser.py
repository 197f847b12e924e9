"""The pages in a real browser: headless Chromium (Debian's package; .ci/run
installs it) lays out the class page, a failing report and a full-marks report
at 1280 and 390 px, and nothing may be wider than its page, no table row taller
than a few lines, no picture without words. Slow: a browser start per page
and width (about 3 s each)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import chromium
import sample_pages

BROWSER = chromium.find_chromium()
WIDTHS_PX = (1280, 390)

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine: `apt-get install -y chromium` "
                                                         "(.ci/run does where apt is available)")]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    return sample_pages.write_pages(tmp_path_factory.mktemp("out"))


def test_every_page_fits_at_a_desktop_and_a_phone_width(pages):
    assert BROWSER is not None
    cases = [(kind, page, width) for kind, page in pages.items() for width in WIDTHS_PX]
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = list(pool.map(lambda case: chromium.layout_problems(BROWSER, case[1], case[2]), cases))
    problems = [f"{kind} at {width} px: {problem}" for (kind, _, width), listed in zip(cases, found, strict=True)
                for problem in listed]
    assert not problems, "\n".join(problems)
