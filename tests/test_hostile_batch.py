"""The hostile corpus through `grade batch`: the same verdicts as `grade exerciseN`,
every other exercise and every other submission graded as if it were absent, the
batch finishes, nothing survives it and nothing is written outside OUT."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest

from grader.commands.batch import classbook, controller
from grader.options import GradeOptions
from corpus import CASES, expectations


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
    files = sorted((root / "out" / path.stem).iterdir())
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
