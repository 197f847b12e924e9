"""The hostile corpus through `grade batch`: the same verdicts as `grade exerciseN`,
every other exercise and every other submission graded as if it were absent, the
batch finishes, nothing survives it and nothing is written outside OUT."""
from __future__ import annotations

import csv
import io
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from rich.console import Console

from grader.commands.batch import controller
from grader.record import classbook
from grader.commands.batch.progress import print_summary
from grader.record.classbook import submission_folder
from grader.options import GradeOptions
from corpus import CASES, expectations
from test_inputs import deep_notebook, plain_notebook

pytestmark = pytest.mark.slow  # a class of every hostile case through grade batch: CI runs it (pytest -m slow)


@pytest.fixture(scope="module")
def class_run(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile-class")
    submissions, out = root / "submissions", root / "out"
    submissions.mkdir()
    exercise2 = course.exercise("exercise2").solution.read_text()
    for path in CASES:  # each hostile exercise1 beside an honest exercise2
        folder = submissions / path.stem
        folder.mkdir()
        shutil.copy(path, folder / "exercise1.py")
        (folder / "exercise2.py").write_text(exercise2)
    honest = submissions / "zz_honest"
    honest.mkdir()
    for spec in course.exercises[:2]:
        (honest / spec.filename).write_text(spec.solution.read_text())
    crowded = submissions / "crowded"  # thousands of files next to a correct exercise
    crowded.mkdir()
    (crowded / "exercise2.py").write_text(exercise2)
    for number in range(3000):
        (crowded / f"junk{number}.txt").write_text("x")
    _inputs_and_names(course, submissions)
    with zipfile.ZipFile(submissions / "absolute.zip", "w") as archive:
        archive.writestr("/etc/exercise1.py", "print('escaped')")
    with zipfile.ZipFile(submissions / "symlink.zip", "w") as archive:
        link = zipfile.ZipInfo("exercise1.py")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, str(course.exercise("exercise1").solution))
    before = _grader_processes()
    outcome = controller.run_batch(submissions, out, course, exercise_ids=["exercise1", "exercise2"], jobs=2,
                                   options=GradeOptions(timeout_s=1.5, memory_mb=512))
    survivors = _grader_processes() - before
    return outcome, {r.submission: r for r in classbook.collect_results(out)}, root, survivors


CORRECT = ["correct_a", "correct_b", "zz_honest"]
ESCAPE_NAME = "evil\n\x1b[2Jalice,graded,20"  # a newline would forge a gradebook line, ESC clear the screen
RESERVED = ["gradebook.sqlite", "index.html"]  # OUT's own files (every one of them: test_batch.py, played by fakes)


def _inputs_and_names(course, submissions: Path) -> None:
    """Entries whose reading or naming broke a class before: a notebook nested 600 deep beside
    correct submissions, three entries that would be bob's, names of OUT's files, a name with a
    newline and ESC, a hidden entry with markup and ESC in its name."""
    solutions = {spec.filename: spec.solution.read_text() for spec in course.exercises[:2]}
    (submissions / "deep.ipynb").write_bytes(deep_notebook())
    for name in [*CORRECT[:2], *RESERVED, ESCAPE_NAME]:
        (submissions / name).mkdir()
        for filename, source in solutions.items():
            (submissions / name / filename).write_text(source)
    (submissions / "bob").mkdir()  # a stub
    (submissions / "bob" / "exercise1.py").write_text(course.exercise("exercise1").stub.read_text())
    with zipfile.ZipFile(submissions / "bob.zip", "w") as archive:  # correct
        for filename, source in solutions.items():
            archive.writestr(f"bob/{filename}", source)
    (submissions / "bob.zip.ipynb").write_bytes(plain_notebook("x = 1\n"))
    (submissions / ".[bold]\x1b[31mhidden").mkdir()


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_batch_gives_each_hostile_submission_the_same_honest_verdict(path, class_run):
    _, results, _, _ = class_run
    expect = expectations(path)
    exercise1, exercise2 = results[path.stem].exercises
    failures = [t for t in exercise1.tests if not t.passed]
    assert exercise1.score == float(expect["points"]), [(t.verdict, t.message[:120]) for t in failures]
    if "verdict" in expect:
        assert expect["verdict"] in {t.verdict for t in failures}
    assert exercise2.score == exercise2.max_score, "a hostile exercise1 changed exercise2's grade"


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_batch_reports_of_hostile_submissions_stay_small_and_show_no_hidden_suite(path, class_run):
    _, _, root, _ = class_run
    files = sorted((submission_folder(root / "out", path.stem)).iterdir())
    assert files
    for report in files:
        text = report.read_text()  # written, and valid UTF-8
        assert len(text) < MAX_REPORT_CHARS, (report.name, len(text))
        for leak in SUITE_LEAKS:
            assert leak not in text, (report.name, leak)


SUITE_LEAKS = ("suites/", "test_exercise", ", in test_", "Traceback (most recent call last)", "grader error")
MAX_REPORT_CHARS = 1 << 20


def test_the_batch_finishes_and_grades_the_others_as_if_the_hostile_were_absent(class_run):
    outcome, results, _, _ = class_run
    assert not outcome.interrupted and not outcome.failed
    assert results["zz_honest"].score == results["zz_honest"].max_score == 20
    assert results["crowded"].exercises[1].score == 10


def test_a_notebook_nested_600_deep_is_refused_and_the_correct_submissions_score_full_marks(class_run):
    outcome, results, _, _ = class_run
    assert not outcome.failed and not outcome.worker_errors
    assert "nested more than 100 levels" in results["deep"].exercises[0].problem and results["deep"].score == 0
    for name in CORRECT:
        assert results[name].score == results[name].max_score == 20, name


def test_three_entries_that_would_be_bob_s_are_three_rows_each_flagged(class_run):
    _, results, root, _ = class_run
    assert results["bob.zip"].score == 20 and results["bob"].score == 0 and "bob.zip.ipynb" in results
    for name in ("bob", "bob.zip", "bob.zip.ipynb"):
        notes = results[name].exercises[0].notes
        assert any("may be the same student" in n and "bob.zip.ipynb" in n for n in notes), name
    rows = {row[0]: row for row in csv.reader(io.StringIO((root / "out" / "gradebook.csv").read_text()))}
    assert "may be the same student as bob, bob.zip.ipynb" in rows["bob.zip"][-1]
    assert "may be the same student as bob.zip, bob.zip.ipynb" in rows["bob"][-1]


def test_names_of_out_s_own_files_and_names_with_control_characters(class_run):
    outcome, results, root, _ = class_run
    out = root / "out"
    for name in RESERVED:
        assert results[name].score == 20, name
    assert (out / "gradebook.sqlite").is_file() and (out / "index.html").is_file()
    escaped = "evil\\n\\x1b[2Jalice,graded,20"
    assert "rename it" in results[escaped].exercises[0].problem and results[escaped].score == 0
    gradebook = (out / "gradebook.csv").read_text()
    assert "\x1b" not in gradebook and "\nalice,graded,20" not in gradebook and escaped in gradebook
    assert outcome.hidden == [".[bold]\\x1b[31mhidden"]
    console = Console(record=True, width=200, force_terminal=True)
    print_summary(console, outcome)
    shown = console.export_text()
    assert "Left out hidden entries: .[bold]\\x1b[31mhidden" in shown  # no markup applied, no ESC


def test_unsafe_zips_are_refused_with_a_reason(class_run):
    _, results, _, _ = class_run
    for name in ("absolute", "symlink"):
        assert results[name].score == 0
        assert results[name].exercises[0].problem, name


def test_nothing_outside_out_is_written_and_no_process_survives(class_run):
    _, _, root, survivors = class_run
    assert sorted(p.name for p in root.iterdir()) == ["out", "submissions"]
    # Where tests/hostile/writes_outside.py and absolute.zip try to write: the
    # zygote's working directory is /, and so is a scrubbed home's parent.
    for target in ("/tmp/torchgrade-pwned", "/PWNED", "/reports/exercise1.html", "/etc/exercise1.py",
                   Path.cwd() / "PWNED"):
        assert not Path(target).exists(), target
    assert survivors == set()


def _grader_processes() -> set[int]:
    """Live batch workers, zygotes and sandboxes that are ours or orphaned."""
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if "State:\tZ" in status or not (b"grader.commands.batch" in cmdline or b"grader.sandbox.untrusted.zygote" in cmdline):
            continue
        if "\nPPid:\t1\n" in status or _descends_from(int(pid), os.getpid()):
            found.add(int(pid))
    return found


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return False
        pid = int(stat.rsplit(")", 1)[1].split()[1])
    return False
