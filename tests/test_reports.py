"""Rendering: the HTML report and the terminal output, from hand-built results."""
from __future__ import annotations

import io
import os
import re
from html.parser import HTMLParser

import pytest
from rich.console import Console

from grader.outputs import files
from grader.status import Status
from grader.outputs.html import render_html, template_environment, write_html
from grader.results import (
    ExerciseResult,
    MismatchRow,
    SandboxStatus,
    SubmissionResult,
)
# Imported under another name so that pytest does not try to collect it.
from grader.results import TestResult as GradedTest
from grader.outputs.terminal import print_exercise, print_sandbox_warning, print_summary_table

XSS = "<script>alert(1)</script>"
HINT = "Did you add the bias before the activation instead of after?"
MESSAGE = (
    "Tensor-likes are not close!\n\n"
    "Mismatched elements: 2 / 6 (33.3%)\n"
    "Greatest absolute difference: 0.5 at index (1, 2) (up to 1e-05 allowed)"
)
ROWS = (
    MismatchRow("(0, 1)", "1.0000", "1.2500", "0.2500"),
    MismatchRow("(1, 2)", "2.0000", "2.5000", "0.5000"),
)


def passing_exercise() -> ExerciseResult:
    return ExerciseResult(
        "exercise1",
        "Tensors",
        (
            GradedTest("test_shape", "output has the right shape", 1, True),
            GradedTest("test_dtype", "output is float64", 2, True),
        ),
        seed=42,
    )


def failing_exercise(message: str = MESSAGE) -> ExerciseResult:
    return ExerciseResult(
        "exercise3",
        "Linear layer",
        (
            GradedTest("test_forward_shape", "forward keeps the batch dimension", 1.5, True),
            GradedTest(
                "test_forward_values",
                "forward matches the reference",
                2,
                False,
                message=message,
                hint=HINT,
                table=ROWS,
            ),
            GradedTest(
                "test_large_batch",
                "",  # no docstring: the report falls back to the test's name
                1,
                False,
                message="stopped after 10 s",
                verdict="time limit",
            ),
        ),
        seed=42,
        output="epoch 1 loss 0.93\nepoch 2 loss 0.51\n",
        notes=("output truncated: 3.2 MB dropped",),
    )


def not_submitted_exercise() -> ExerciseResult:
    return ExerciseResult(
        "exercise4",
        "Softmax",
        (GradedTest("test_softmax", "rows sum to one", 2, False, message="not submitted"),),
        seed=42,
        status=Status.NOT_SUBMITTED,
        problem="not submitted",
    )


def submission(*exercises: ExerciseResult, missing: tuple[str, ...] = (), name: str = "alice") -> SubmissionResult:
    return SubmissionResult(
        name,
        exercises or (passing_exercise(), failing_exercise(), not_submitted_exercise()),
        seed=42,
        sandbox=SandboxStatus(walls=("rlimits", "landlock"), missing=missing),
        elapsed_s=1.25,
    )


class _TestItems(HTMLParser):
    """Collects the visible text of each ``<li class="test ...">`` element."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[tuple[str, str]] = []  # (class attribute, text)
        self._depth = 0

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        if self._depth:
            self._depth += tag == "li"
        elif tag == "li" and classes.split()[:1] == ["test"]:
            self._depth = 1
            self.items.append((classes, ""))

    def handle_endtag(self, tag):
        if self._depth and tag == "li":
            self._depth -= 1

    def handle_data(self, data):
        if self._depth:
            classes, text = self.items[-1]
            self.items[-1] = (classes, text + data)


def collect_test_items(html: str) -> dict[str, tuple[str, str]]:
    parser = _TestItems()
    parser.feed(html)
    return {re.sub(r"\s+", " ", text).strip(): (classes, text) for classes, text in parser.items}


def find_test(html: str, needle: str) -> tuple[str, str]:
    """The (class, text) of the one test item whose text contains ``needle``."""
    found = [item for flat, item in collect_test_items(html).items() if needle in flat]
    assert len(found) == 1, f"{needle!r} in {len(found)} test items"
    return found[0]


def section(html: str, exercise_id: str) -> str:
    match = re.search(rf'<details class="exercise" id="ex-{exercise_id}"[^>]*>.*?(?=<details class="exercise"|</main>)', html, re.S)
    assert match, f"no section for {exercise_id}"
    return match.group(0)


# --- HTML -------------------------------------------------------------------------


def test_html_has_title_total_and_per_exercise_scores():
    html = render_html(submission())
    assert "<title>alice — torchgrade report</title>" in html
    assert "<h1>alice — torchgrade report</h1>" in html
    # 3 + 1.5 + 0 of 3 + 4.5 + 2
    assert re.search(r"<strong>4\.5</strong>\s*/\s*9\.5 points", html)
    assert "3 / 3 points" in section(html, "exercise1")
    assert "1.5 / 4.5 points" in section(html, "exercise3")
    assert "0 / 2 points" in section(html, "exercise4")
    assert html.count("<svg") == 4  # a bar per exercise and one for the total


def test_html_folds_full_marks_and_opens_the_exercises_that_lost_points_first():
    html = render_html(submission())  # exercise1 (full marks) comes first in the course
    opened = re.findall(r'<details class="exercise" id="ex-(\w+)"( open)?>', html)
    assert opened == [("exercise3", " open"), ("exercise4", " open"), ("exercise1", "")]
    assert html.index('href="#ex-exercise1"') < html.index('href="#ex-exercise3"')  # the score table keeps the course's order


def test_html_colours_scores_by_full_partial_or_none():
    html = render_html(submission())
    assert '<span class="chip full">' in section(html, "exercise1")
    assert '<span class="chip partial">' in section(html, "exercise3")
    assert '<span class="chip none">' in section(html, "exercise4")


def test_html_shows_seed_to_replay_the_run():
    html = render_html(submission())
    assert re.search(r"Seed <code>42</code>", html)


def test_html_shows_each_test_with_verdict_title_points_and_message():
    html = render_html(submission())
    classes, text = find_test(html, "output has the right shape")
    assert "pass" in classes.split() and "✓" in text and "1 / 1" in text

    classes, text = find_test(html, "forward matches the reference")
    assert "fail" in classes.split() and "✗" in text and "0 / 2" in text
    assert "Mismatched elements: 2 / 6 (33.3%)" in text

    classes, text = find_test(html, "test_large_batch")  # title falls back to name
    assert "fail" in classes.split() and "✗" in text and "0 / 1" in text
    assert "time limit" in text and "stopped after 10 s" in text


def test_html_message_is_preformatted_and_hint_is_in_its_own_box():
    html = render_html(submission())
    assert f'<pre class="message">{MESSAGE}</pre>' in html
    assert re.search(rf'<aside class="hint">.*?{re.escape(HINT)}</aside>', html)


def test_html_verdict_is_a_badge():
    html = render_html(submission())
    assert '<span class="badge">time limit</span>' in html


def test_html_mismatch_table_lists_expected_and_got():
    html = render_html(submission())
    table = re.search(r'<table class="mismatch">.*?</table>', html, re.S)
    assert table
    cells = re.findall(r"<td>(.*?)</td>", table.group(0))
    assert cells == [value for row in ROWS for value in (row.index, row.expected, row.got, row.abs_diff)]
    assert "|diff|" in table.group(0)


def test_html_states_the_problem_of_an_exercise_that_was_not_graded():
    broken = ExerciseResult("exercise5", "Training loop", (), seed=42, problem="could not import: SyntaxError on line 3")
    html = render_html(submission(not_submitted_exercise(), broken))
    assert '<p class="problem">not submitted</p>' in section(html, "exercise4")
    assert '<p class="problem">could not import: SyntaxError on line 3</p>' in section(html, "exercise5")


def test_html_notes_and_collapsible_output():
    html = render_html(submission())
    ex3 = section(html, "exercise3")
    assert "<li>output truncated: 3.2 MB dropped</li>" in ex3
    details = re.search(r'<details class="output">.*?</details>', ex3, re.S)
    assert details and "epoch 2 loss 0.51" in details.group(0)
    assert '<details class="output"' not in section(html, "exercise1")  # no output, no empty box


def test_html_warns_about_each_missing_sandbox_wall():
    missing = ("seccomp: unavailable on this kernel", "network namespace: not permitted")
    html = render_html(submission(missing=missing))
    banner = re.search(r'<section class="banner".*?</section>', html, re.S)
    assert banner and "sandbox was incomplete" in banner.group(0)
    for wall in missing:
        assert f"<li>{wall}</li>" in banner.group(0)


def test_html_has_no_sandbox_warning_when_fully_walled():
    html = render_html(submission())
    assert 'class="banner"' not in html and "sandbox was incomplete" not in html


def test_html_escapes_student_text():
    exercise = failing_exercise(message=f"got {XSS} & <b>bold</b>")
    exercise = ExerciseResult(
        exercise.exercise_id, exercise.title, exercise.tests, exercise.seed, output=f"print {XSS}"
    )
    html = render_html(submission(exercise, name='bob"<img src=x>'))
    assert "got &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "print &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "bob&#34;&lt;img src=x&gt; — torchgrade report" in html
    assert "<script" not in html.lower() and "<img" not in html.lower()


def test_html_is_self_contained():
    html = render_html(submission(missing=("seccomp",)))
    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<link\b|\bsrc=|@import|url\(", html, re.I)
    assert "<style>" in html  # the CSS is inline


def test_html_covers_only_the_chosen_exercises():
    html = render_html(submission(), exercise_ids=["exercise3"])
    assert 'id="ex-exercise3"' in html
    assert 'id="ex-exercise1"' not in html and 'id="ex-exercise4"' not in html
    assert re.search(r"<strong>1\.5</strong>\s*/\s*4\.5 points", html)


def test_html_rejects_an_exercise_the_result_does_not_have():
    with pytest.raises(ValueError, match="exercise9"):
        render_html(submission(), exercise_ids=["exercise9"])


def test_template_environment_is_built_once_and_autoescapes():
    env = template_environment()
    assert template_environment() is env
    assert env.autoescape is True


def test_write_html_creates_parent_dirs_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "reports" / "alice" / "report.html"
    result = submission()
    assert write_html(result, target, exercise_ids=["exercise1"]) == target
    assert target.read_text(encoding="utf-8") == render_html(result, exercise_ids=["exercise1"])
    assert os.listdir(target.parent) == ["report.html"]


def test_write_html_never_leaves_a_half_written_report(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("previous report", encoding="utf-8")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(files.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_html(submission(), target)
    assert target.read_text(encoding="utf-8") == "previous report"
    assert os.listdir(tmp_path) == ["report.html"]


# --- terminal ---------------------------------------------------------------------


def recording_console() -> Console:
    return Console(record=True, width=100, file=io.StringIO())


def lines_of(console: Console) -> list[str]:
    return [line.rstrip() for line in console.export_text().splitlines()]


def line_with(lines: list[str], needle: str) -> int:
    found = [i for i, line in enumerate(lines) if needle in line]
    assert len(found) == 1, f"{needle!r} on {len(found)} lines:\n" + "\n".join(lines)
    return found[0]


def test_terminal_exercise_lists_tests_with_marks_and_points():
    console = recording_console()
    print_exercise(console, failing_exercise())
    lines = lines_of(console)
    assert lines[0] == "exercise3 — Linear layer"
    passed = lines[line_with(lines, "forward keeps the batch dimension")]
    assert passed.lstrip().startswith("✓") and passed.endswith("1.5/1.5")
    failed = lines[line_with(lines, "forward matches the reference")]
    assert failed.lstrip().startswith("✗") and failed.endswith("0/2")
    timed_out = lines[line_with(lines, "test_large_batch")]
    assert timed_out.lstrip().startswith("✗") and timed_out.endswith("0/1")
    assert lines[-1].strip() == "score: 1.5/4.5 (33.3%)"


def test_terminal_failure_shows_message_hint_and_verdict_indented_under_the_test():
    console = recording_console()
    print_exercise(console, failing_exercise())
    lines = lines_of(console)
    test_line = line_with(lines, "forward matches the reference")
    message_line = line_with(lines, "Mismatched elements: 2 / 6 (33.3%)")
    hint_line = line_with(lines, HINT)
    assert test_line < message_line < hint_line < line_with(lines, "test_large_batch")
    indent = len(lines[test_line]) - len(lines[test_line].lstrip())
    assert len(lines[message_line]) - len(lines[message_line].lstrip()) > indent
    assert lines[hint_line].strip() == f"hint: {HINT}"
    verdict_line = line_with(lines, "time limit")
    assert verdict_line > line_with(lines, "test_large_batch")
    assert "stopped after 10 s" in lines[verdict_line + 1]


def test_terminal_passing_tests_print_no_details():
    console = recording_console()
    print_exercise(console, passing_exercise())
    lines = [line for line in lines_of(console) if line]
    assert len(lines) == 4  # heading, two tests, score
    assert lines[-1].strip() == "score: 3/3 (100.0%)"


def test_terminal_colours_pass_fail_and_hint():
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="standard")
    print_exercise(console, failing_exercise())
    out = console.file.getvalue()
    assert "\x1b[1;32m✓" in out  # green pass mark
    assert "\x1b[1;31m✗" in out  # red fail mark
    assert f"\x1b[33m{HINT}" in out  # yellow hint


def test_terminal_prints_markup_in_student_text_literally():
    message = "got [bold]x[/bold] and [red]y[/] at a[0][1]"
    exercise = failing_exercise(message=message)
    console = recording_console()
    print_exercise(console, exercise)
    assert message in console.export_text()


def test_terminal_shows_the_problem_of_an_ungraded_exercise():
    console = recording_console()
    print_exercise(console, not_submitted_exercise())
    lines = lines_of(console)
    assert lines[1].strip() == "not submitted"
    assert lines[-1].strip() == "score: 0/2 (0.0%)"


def test_terminal_summary_table_has_a_row_per_exercise_and_a_total():
    console = recording_console()
    print_summary_table(console, submission())
    lines = lines_of(console)
    assert re.search(r"exercise1\s+Tensors\s+3/3", lines[line_with(lines, "exercise1")])
    assert re.search(r"exercise3\s+Linear layer\s+1\.5/4\.5", lines[line_with(lines, "exercise3")])
    assert re.search(r"exercise4\s+Softmax\s+0/2\s+not submitted", lines[line_with(lines, "exercise4")])
    total = line_with(lines, "Total")
    assert total > line_with(lines, "exercise4")
    assert re.search(r"Total\s+4\.5/9\.5", lines[total])


def test_terminal_sandbox_warning_lists_each_missing_wall():
    missing = ("seccomp: unavailable on this kernel", "landlock: [not] supported")
    console = recording_console()
    print_sandbox_warning(console, SandboxStatus(walls=("rlimits",), missing=missing))
    text = console.export_text()
    assert "WARNING: sandbox incomplete" in text
    for wall in missing:
        assert wall in text


def test_terminal_sandbox_warning_is_silent_when_fully_walled():
    console = recording_console()
    print_sandbox_warning(console, SandboxStatus(walls=("rlimits", "landlock", "seccomp")))
    assert console.export_text() == ""
