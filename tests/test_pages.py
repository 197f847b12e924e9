"""The pages' shapes, read from their HTML (the browser test measures them):
the class page of 32 on ten exercises, a failing report, a full-marks one."""
from __future__ import annotations

import re

import pytest

import sample_pages


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    written = sample_pages.write_pages(tmp_path_factory.mktemp("out"))
    return {kind: path.read_text(encoding="utf-8") for kind, path in written.items()}


def test_the_submissions_table_scrolls_in_its_own_box_with_the_names_in_view(pages):
    page = pages["class"]
    box = re.search(r'<div class="table-box tall"[^>]*>\s*<table class="submissions sortable">', page)
    assert box and 'tabindex="0"' in box.group(0)  # a box a keyboard can scroll
    assert re.search(r"table\.submissions \.name \{ position: sticky; left: 0;", page)
    assert page.count('<th scope="row" class="name">') == 32
    assert re.search(r"td\.notes \{ min-width: [\d.]+rem; max-width: [\d.]+rem;", page)


def test_the_class_page_sorts_with_one_inline_script_and_reads_without_it(pages):
    page = pages["class"]
    assert page.count("<script>") == 1 and "src=" not in page.split("<script>")[1]
    names = re.findall(r'<th scope="row" class="name"><a [^>]*>([^<]+)</a>', page)
    assert names == sorted(names, key=str.casefold)  # sorted by name before any script runs
    cells = re.findall(r'<td class="num[^"]*" data-value="([^"]+)"', page)
    assert len(cells) == 32 * 11 and all(float(c) >= -1 for c in cells)  # each score sortable as a number


def test_each_exercise_draws_its_score_distribution_with_its_numbers_as_text(pages):
    page = pages["class"]
    figures = re.findall(r'<figure class="distribution">(.*?)</figure>', page, re.S)
    assert len(figures) == 10
    for figure in figures:
        described = re.search(r'<desc id="[^"]+">([^<]+)</desc>', figure).group(1)
        counts = [int(n) for n in re.findall(r"points: (\d+)", described)]
        heights = [float(h) for h in re.findall(r'<rect class="count" [^>]*height="([\d.]+)"', figure)]
        assert sum(counts) == 32 and len(heights) == len(counts) == 11  # 0..10 points
        assert heights.index(max(heights)) == counts.index(max(counts))
        assert 'aria-labelledby="' in figure and "<title id=" in figure


def test_reports_have_no_script_and_fold_the_full_marks(pages):
    for kind in ("failing", "full"):
        assert "<script" not in pages[kind].lower()
    assert ' open>' not in pages["full"] and pages["full"].count('<details class="exercise"') == 10
    assert pages["failing"].count('<details class="exercise"') == 10
