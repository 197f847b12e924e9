"""Counts in words: "1 line", "2 lines", never "line(s)", in every text a user reads."""
from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from grader.outputs.html import render_html
from grader.results import ExerciseResult, SubmissionResult, TestResult
from grader.words import counted

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
HEDGED_PLURAL = re.compile(r"[A-Za-z]\(s\)")


def test_a_count_takes_the_singular_only_for_one():
    assert [counted(n, "line") for n in (0, 1, 2)] == ["0 lines", "1 line", "2 lines"]
    assert counted(1, "child", "children") == "1 child" and counted(3, "child", "children") == "3 children"


def _strings(path: Path) -> list[tuple[int, str]]:
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens if t.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1))]


def test_no_text_of_the_grader_hedges_a_plural_with_s_in_brackets():
    found = [f"{path.relative_to(PACKAGE)}:{line}: {text}" for path in sorted(PACKAGE.rglob("*.py"))
             if path.name != "words.py"  # the one place that names the hedge it replaces
             for line, text in _strings(path) if HEDGED_PLURAL.search(text)]
    found += [f"{path.relative_to(PACKAGE)}:{number}" for path in sorted(PACKAGE.rglob("*.j2"))
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
              if HEDGED_PLURAL.search(line)]
    assert not found, "\n".join(found)


def test_the_report_counts_one_line_of_captured_output_as_one_line():
    test = TestResult("test_model", "the model", 2.0, True)
    page = render_html(SubmissionResult("ken", (ExerciseResult("exercise1", "Fix the model", (test,), seed=1,
                                                               output="hi\n"),), seed=1))
    assert "Captured output (1 line)" in page
