"""End to end through the public API: real solutions, stubs, another correct
way of writing them, every known mistake, and a corpus of hostile submissions."""
from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest

from grader.engine import runner
from grader.engine.evidence import shows_hint
from grader.course.submissions import Submission, from_path

from corpus import CASES, expectations

HERE = Path(__file__).resolve().parent


def _by_name(results):
    return {r.submission: r for r in results}


@pytest.fixture(scope="module")
def course_results(course, zygote, tmp_path_factory):
    """One grading session over solutions, stubs, an alternative solution and every mutant."""
    filenames = [s.filename for s in course.exercises]
    submissions = [from_path(course.root / "solutions", filenames, name="solutions"),
                   from_path(course.root / "exercises", filenames, name="stubs"),
                   from_path(HERE / "submissions" / "alternative", filenames, name="alternative")]
    mutants = tmp_path_factory.mktemp("mutants")
    for spec in course.exercises:
        for mistake in spec.mistakes:
            folder = mutants / f"{spec.id}.{mistake.id}"
            folder.mkdir()
            (folder / spec.filename).write_text(spec.mutant_source(mistake))
            submissions.append(from_path(folder, filenames))
    run = runner.grade(course, submissions, list(course.exercises), zygote=zygote)
    assert not run.sandbox.missing, run.sandbox.missing
    return _by_name(run.results)


def test_solutions_earn_full_marks(course, course_results):
    result = course_results["solutions"]
    assert result.score == result.max_score == sum(s.points for s in course.exercises)
    assert all(t.passed for e in result.exercises for t in e.tests)


def test_untouched_stubs_earn_nothing(course_results):
    result = course_results["stubs"]
    assert result.score == 0
    assert all(not t.passed for e in result.exercises for t in e.tests if t.max_points > 0)


def test_stub_failures_are_explained(course_results):
    exercise1 = course_results["stubs"].exercises[0]
    model_test = next(t for t in exercise1.tests if t.name == "test_model_with_tensor_parameters")
    assert "expected (7,)" in model_test.message
    assert "look at what w multiplies" in model_test.hint
    loss_test = next(t for t in exercise1.tests if t.name == "test_loss_is_mean_squared_error")
    assert loss_test.verdict == "not implemented"


def test_a_correct_submission_written_differently_earns_full_marks(course_results):
    result = course_results["alternative"]
    failures = [(e.exercise_id, t.name, t.message) for e in result.exercises for t in e.tests if not t.passed]
    assert failures == []


def test_every_known_mistake_loses_points_and_shows_its_hint(course, course_results):
    for spec in course.exercises:
        assert len(spec.mistakes) >= 3, spec.id
        for mistake in spec.mistakes:
            result = course_results[f"{spec.id}.{mistake.id}"]
            exercise = next(e for e in result.exercises if e.exercise_id == spec.id)
            assert exercise.score < exercise.max_score, mistake.id
            assert any(shows_hint(t.hint, mistake.hint) for t in exercise.tests if not t.passed), mistake.id


# A frame of the submission's own file in a traceback, and the line of its code it quotes (the student's own).
OWN_FRAME = re.compile(r'File "exercise\d+\.py", line \d+, in \w+\n[^\n]*')


def test_messages_never_show_the_reference_code(course, course_results):
    solution_lines = {line.strip() for spec in course.exercises
                      for line in spec.solution.read_text().splitlines()
                      if line.strip().startswith("return") and len(line.strip()) > 12}
    for result in course_results.values():
        for exercise in result.exercises:
            for test in exercise.tests:
                message = OWN_FRAME.sub("", test.message)  # a mutant's own line may be the solution's
                for line in solution_lines:
                    assert line not in message and line not in (test.hint or ""), (result.submission, line)


def test_mismatches_come_with_an_expected_vs_got_table(course_results):
    exercise2 = next(e for e in course_results["exercise2.missing_factor_2"].exercises if e.exercise_id == "exercise2")
    dloss_test = next(t for t in exercise2.tests if t.name == "test_dloss_fn")
    assert len(dloss_test.table) > 1 and dloss_test.table[0].index == "(0,)"
    assert float(dloss_test.table[0].expected) == pytest.approx(2 * float(dloss_test.table[0].got), rel=1e-3)
    assert "differs from the expected values in 9 of 9 elements" in dloss_test.message
    assert "the greatest difference is" in dloss_test.message and "Tensor-likes" not in dloss_test.message


def test_results_are_deterministic_and_record_the_seed(course, zygote):
    filenames = [s.filename for s in course.exercises]
    mutant = course.exercise("exercise5")
    submissions = [from_path(course.root / "solutions", filenames, name="solutions")]
    first = runner.grade(course, submissions, [mutant], zygote=zygote, options=runner.GradeOptions(seed=7))
    second = runner.grade(course, submissions, [mutant], zygote=zygote, options=runner.GradeOptions(seed=7))
    strip = lambda r: [(t.name, t.passed, t.message) for e in r.exercises for t in e.tests]  # noqa: E731
    assert strip(first.results[0]) == strip(second.results[0])
    assert first.results[0].seed == 7 and first.results[0].exercises[0].seed == 7


@pytest.fixture(scope="module")
def hostile_results(course, zygote):
    submissions = [Submission(name=path.stem, files={"exercise1.py": path}) for path in CASES]
    options = runner.GradeOptions(timeout_s=1.5, memory_mb=512)  # CPU time; sleepers meet the 3x wall-clock backstop
    run = runner.grade(course, submissions, [course.exercise("exercise1")], zygote=zygote, options=options)
    return _by_name(run.results)


@pytest.mark.slow  # the whole hostile corpus graded once for this module: CI runs it (pytest -m slow)
@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_hostile_submission_gets_an_honest_verdict(path, hostile_results):
    expect = expectations(path)
    exercise = hostile_results[path.stem].exercises[0]
    failures = [t for t in exercise.tests if not t.passed]
    assert exercise.score == float(expect["points"]), [(t.name, t.verdict, t.message[:200]) for t in failures]
    if "verdict" in expect:
        assert expect["verdict"] in {t.verdict for t in failures}
    if "message" in expect:
        assert any(expect["message"] in t.message for t in failures), [t.message[:200] for t in failures]
    if "note" in expect:
        assert any(expect["note"] in note for note in exercise.notes), exercise.notes


def _reports(result) -> dict[str, str]:
    """HTML, results.json and terminal (without colours: any escape is the submission's)."""
    import io

    from rich.console import Console

    from grader.outputs.html import render_html
    from grader.outputs.results_json import to_gradescope
    from grader.outputs.terminal import print_exercise

    console = Console(file=io.StringIO(), width=120)
    for exercise in result.exercises:
        print_exercise(console, exercise)
    return {"html": render_html(result), "json": json.dumps(to_gradescope(result)),
            "terminal": console.file.getvalue()}


@pytest.mark.slow  # the whole hostile corpus graded once for this module: CI runs it (pytest -m slow)
def test_no_report_of_a_hostile_submission_is_large_or_shows_the_hidden_suite(hostile_results):
    """HTML, results.json and terminal, whatever the submission did: small, and
    no hidden suite's path, source or traceback, and no grader error."""
    for name, result in hostile_results.items():
        for kind, text in _reports(result).items():
            assert len(text) < MAX_REPORT_CHARS, (name, kind, len(text))
            text.encode("utf-8")  # a file can hold it (no lone surrogates)
            for leak in SUITE_LEAKS:
                assert leak not in text, (name, kind, leak)


@pytest.mark.slow  # the whole hostile corpus graded once for this module: CI runs it (pytest -m slow)
def test_no_report_of_a_hostile_submission_holds_a_control_character(hostile_results):
    """Whatever a submission raised or printed (tests/hostile/escape_sequences_*),
    no report passes on an escape sequence, a carriage return or a bidi override:
    each reads as a visible escape, in the terminal, the HTML and every string
    of results.json."""
    for name, result in hostile_results.items():
        reports = _reports(result)
        texts = {**reports, "json": "\n".join(_strings(json.loads(reports["json"])))}
        for kind, text in texts.items():
            assert not active_characters(text), (name, kind, active_characters(text)[:5])
    attacked = _reports(hostile_results["escape_sequences_in_output"])
    assert "\\x1b]52;c;" in attacked["html"] and "\\x1b]52;c;" in attacked["json"]
    said = _reports(hostile_results["escape_sequences_in_message"])["terminal"]
    assert "\\x1b]52;c;" in said and "[bold red]markup[/bold red]" in said


def active_characters(text: str) -> list[str]:
    """Characters a terminal or a reader acts on rather than shows: controls
    (but newline and tab), format characters (bidi), separators of lines."""
    import unicodedata

    return [ch for ch in text if ch not in "\n\t" and unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_strings(k), *_strings(v))]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# What only a hidden suite's traceback or a grader failure would put in a report.
SUITE_LEAKS = ("suites/", "test_exercise", ", in test_", "Traceback (most recent call last)",
               "internal grader error", "grader error")
MAX_REPORT_CHARS = 1 << 20


def test_hostile_submissions_leave_nothing_behind(hostile_results, zygote):
    assert not Path("/tmp/torchgrade-pwned").exists()
    assert not (Path.cwd() / "PWNED").exists()
    # A room ends with SIGKILL and the grader never waits for its teardown (client.py, close): on a
    # busy machine the last one may still be exiting; none may outlive a few seconds.
    deadline = time.monotonic() + 10
    while _live_children(zygote.process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _live_children(zygote.process.pid) == []


def _live_children(parent: int) -> list[str]:
    """Processes whose parent is ``parent`` and that are not already dead (zombies)."""
    alive = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        if f"\nPPid:\t{parent}\n" in status and "State:\tZ" not in status:
            alive.append(pid)
    return alive


def test_a_hostile_exercise_changes_nothing_for_the_others(course, zygote, tmp_path):
    """Exercise 1 sabotages torch and its folder; the other exercises are graded as if it were absent,
    and a conftest.py in the submission folder is never loaded by the grader."""
    for spec in course.exercises[1:]:
        (tmp_path / spec.filename).write_text(spec.solution.read_text())
    (tmp_path / "exercise1.py").write_text(
        "import torch, pathlib\n"
        "torch.Tensor.__mul__ = lambda self, other: torch.zeros(())\n"
        "torch.autograd.grad = lambda *a, **k: None\n"
        "for name in ('exercise2.py', 'exercise3.py'):\n"
        "    pathlib.Path(name).write_text('raise SystemExit(1)')\n"
        "def model(x, w, b):\n    return w * x + b\n"
        "def loss_fn(y_hat, y):\n    return ((y_hat - y) ** 2).mean()\n")
    (tmp_path / "conftest.py").write_text(
        "import pytest\n"
        "@pytest.hookimpl(hookwrapper=True)\n"
        "def pytest_runtest_makereport(item, call):\n"
        "    outcome = yield\n"
        "    outcome.get_result().outcome = 'passed'\n")
    submission = from_path(tmp_path, [s.filename for s in course.exercises], name="saboteur")
    result = runner.grade(course, [submission], list(course.exercises), zygote=zygote).results[0]
    scores = {e.exercise_id: e.score for e in result.exercises}
    assert scores["exercise1"] == 0
    assert all(scores[spec.id] == spec.points for spec in course.exercises[1:]), scores
    assert (tmp_path / "exercise2.py").read_text() == course.exercise("exercise2").solution.read_text()


def test_the_mismatch_table_holds_the_greatest_difference_the_message_names():
    import torch

    from grader.engine.checks import TABLE_ROWS, first_difference

    expected = torch.ones(4 * TABLE_ROWS, dtype=torch.float64)
    got = expected + 0.5
    got[3 * TABLE_ROWS] = 100.0
    difference = first_difference(expected, got, rtol=1e-6, atol=1e-6, where="the result")
    indices = [row.index for row in difference.table]
    assert indices[:TABLE_ROWS] == [f"({i},)" for i in range(TABLE_ROWS)]
    assert f"({3 * TABLE_ROWS},)" in indices and f"index ({3 * TABLE_ROWS},)" in difference.message
