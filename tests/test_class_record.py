"""The class record end to end: ``grade batch`` writing ``OUT/gradebook.sqlite``
(real workers, real sandboxes) and the commands that read it (``grade
history``, ``grade override``, ``grade export``) through the CLI; then what a
course ships (``grade release`` from committed files, ``[course] requirements``)."""
from __future__ import annotations

import csv
import importlib.util
import io
import json
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from grader.cli import main
from grader.commands.batch import controller
from grader.record.classbook import submission_folder
from grader.commands.committed import UncommittedCourse, committed_sources
from grader.commands.gradescope import setup_script
from grader.commands.release import build_release, student_pyproject
from grader.course.catalogue import CourseError, load_course
from grader.record.database import ClassRecord, RecordRefused

COURSE_PARTS = ("course.toml", "exercises", "solutions", "suites")


def _gradebook(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))


def _rows(out: Path) -> dict[str, list[str]]:
    return {row[0]: row for row in _gradebook(out)[2:]}


def _exercise_scores(out: Path, name: str) -> dict[str, float]:
    """results.json's points per exercise (its tests are named "exerciseN: ...")."""
    data = json.loads((submission_folder(out, name) / "results.json").read_text())
    scores: dict[str, float] = {}
    for test in data["tests"]:
        exercise_id = test["name"].split(":")[0].split()[0]
        scores[exercise_id] = scores.get(exercise_id, 0.0) + test["score"]
    return scores


def _cli(*args: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


def _course_copy(course, folder: Path, *, title: str | None = None, extra: str = "") -> Path:
    """The real course's files in ``folder`` (its title, or course-level keys, changed)."""
    folder.mkdir(parents=True)
    for part in COURSE_PARTS:
        source = course.root / part
        (shutil.copytree if source.is_dir() else shutil.copy)(source, folder / part)
    text = (folder / "course.toml").read_text()
    if title is not None:
        text = text.replace(f'title = "{course.title}"', f'title = "{title}"', 1)
    if extra:
        for key in (line.split("=", 1)[0].strip() for line in extra.splitlines() if "=" in line):
            text = "\n".join(line for line in text.splitlines() if not line.startswith(f"{key} =")) + "\n"
        text = text.replace("[course]\n", "[course]\n" + extra, 1)
    (folder / "course.toml").write_text(text)
    return folder


@pytest.fixture(scope="module")
def graded_class(course, tmp_path_factory):
    """Two students graded on the whole course: alice hands in every solution,
    bob the untouched stub of exercise1 and the solution of exercise3."""
    root = tmp_path_factory.mktemp("record")
    subs = root / "subs"
    (subs / "alice").mkdir(parents=True)
    for spec in course.exercises:
        shutil.copy(spec.solution, subs / "alice" / spec.filename)
    (subs / "bob").mkdir()
    shutil.copy(course.exercise("exercise1").stub, subs / "bob" / "exercise1.py")
    shutil.copy(course.exercise("exercise3").solution, subs / "bob" / "exercise3.py")
    out = root / "out"
    outcome = controller.run_batch(subs, out, course, jobs=2)
    assert sorted(outcome.graded) == ["alice", "bob"]
    return subs, out


@pytest.fixture
def graded(graded_class, tmp_path):
    """A copy of the graded class (SUBMISSIONS and OUT) that a test may change."""
    subs, out = graded_class
    shutil.copytree(subs, tmp_path / "subs")
    shutil.copytree(out, tmp_path / "out")
    return tmp_path / "subs", tmp_path / "out"


def test_a_full_batch_then_one_exercise_resumed_keeps_every_other_score(course, graded):
    subs, out = graded
    before_rows = _rows(out)
    before_scores = {name: _exercise_scores(out, name) for name in ("alice", "bob")}
    n, total = len(course.ids), f"{sum(spec.points for spec in course.exercises):g}"
    assert before_rows["bob"][1:] == ["graded", "0", "0", "10", *["0"] * (n - 3), "10", ""]
    shutil.copy(course.exercise("exercise3").stub, subs / "bob" / "exercise3.py")  # bob hands in exercise3 again

    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise3"], jobs=1, resume=True)

    assert outcome.graded == ["bob"] and outcome.skipped == ["alice"]
    rows = _gradebook(out)
    assert rows[0] == ["submission", "status", *course.ids, "total", "notes"]  # every exercise still there
    assert rows[1][2:-1] == ["10"] * n + [total]
    assert _rows(out)["alice"] == before_rows["alice"]
    assert _rows(out)["bob"][1:] == ["graded", *["0"] * n, "0", ""]  # only exercise3 moved
    assert _exercise_scores(out, "alice") == before_scores["alice"]
    assert _exercise_scores(out, "bob") == {**before_scores["bob"], "exercise3": 0.0}
    index = (out / "index.html").read_text()
    assert all(f'<th scope="col" class="num">{i}</th>' in index for i in course.ids)
    assert f"<strong>{total}</strong> / {total}" in index  # alice's total, from the record


def test_a_batch_into_the_out_of_another_course_refuses_and_changes_nothing(course, graded, tmp_path):
    subs, out = graded
    other = load_course(_course_copy(course, tmp_path / "other", title="Another course"))
    before = (out / "gradebook.csv").read_text()

    with pytest.raises(RecordRefused, match="holds the results of another course"):
        controller.run_batch(subs, out, other, exercise_ids=["exercise1"], jobs=1)
    code, output = _cli("batch", subs, "--out", out, "--course", other.root, "--exercise", "exercise1")

    assert code == 2 and "another course" in output and "--force" in output
    assert (out / "gradebook.csv").read_text() == before
    with ClassRecord.open(out) as record:
        assert len(record.runs()) == 1


def test_an_override_survives_a_regrade_and_shows_in_report_gradebook_summary_and_exports(course, graded, tmp_path):
    subs, out = graded
    reason = "the file came by email before the deadline"
    code, output = _cli("override", out, "bob", "exercise1", "7", "--reason", reason)
    assert code == 0, output

    controller.run_batch(subs, out, course, exercise_ids=["exercise1"], jobs=1)  # graded again: still 0

    bob = _rows(out)["bob"]
    assert bob[2] == "7" and bob[-2] == "17" and reason in bob[-1]
    assert reason in (submission_folder(out, "bob") / "report.html").read_text()
    total = f"{sum(spec.points for spec in course.exercises):g}"
    assert f"<strong>17</strong> / {total}" in (submission_folder(out, "bob") / "report.html").read_text()
    assert reason in (out / "index.html").read_text()
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,id,email\nalice,Alice A,101,alice@uni.example\nbob,Bob B,102,bob@uni.example\n")
    for format_ in ("csv", "moodle"):
        code, output = _cli("export", out, "--format", format_, "--roster", roster, "--to", tmp_path / f"{format_}.csv")
        assert code == 0, output
        assert reason in (tmp_path / f"{format_}.csv").read_text()

    code, output = _cli("override", out, "bob", "exercise1", "--remove")
    assert code == 0, output
    assert _rows(out)["bob"][2] == "0" and reason not in (submission_folder(out, "bob") / "report.html").read_text()


def test_history_shows_a_changed_submission_with_points_before_and_after(course, graded):
    subs, out = graded
    shutil.copy(course.exercise("exercise1").solution, subs / "bob" / "exercise1.py")  # bob fixes exercise1

    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise1"], jobs=1, resume=True)
    code, output = _cli("history", out, "bob")

    assert outcome.graded == ["bob"]
    assert code == 0, output
    changed = [line for line in output.splitlines() if "run 2" in line]
    assert len(changed) == 1 and "exercise1: 0 → 10" in changed[0] and "new submission files" in changed[0]
    assert _cli("history", out, "nobody")[0] == 2


def test_exports_read_back_as_the_class_record(course, graded, tmp_path):
    _, out = graded
    roster = tmp_path / "roster.csv"
    roster.write_text("submission,name,id,sis_user_id,email,section\n"
                      "alice,Alice A,101,S-1,alice@uni.example,A\nbob,Bob B,102,S-2,bob@uni.example,B\n"
                      "carl,Carl C,103,S-3,carl@uni.example,A\n")
    with ClassRecord.open(out) as record:
        totals = {c.submission: c.total for c in record.current()}
        points = {c.submission: {e: c.points(e) for e in record.exercise_order()} for c in record.current()}
    names = {"Alice A": "alice", "Bob B": "bob"}

    code, output = _cli("export", out, "--format", "canvas", "--roster", roster, "--assignment", "Homework 1 (12345)")
    assert code == 0, output
    assert "Students on the roster with no submission: carl" in output  # listed, never dropped
    canvas = list(csv.DictReader(io.StringIO((out / "export-canvas.csv").read_text())))
    assert canvas[0]["Student"].strip() == "Points Possible" and canvas[0]["Homework 1 (12345)"] == f"{sum(spec.points for spec in course.exercises):g}"
    assert {names[r["Student"]]: float(r["Homework 1 (12345)"]) for r in canvas[1:]} == totals
    assert {r["SIS User ID"] for r in canvas[1:]} == {"S-1", "S-2"}

    assert _cli("export", out, "--format", "moodle", "--roster", roster, "--assignment", "Homework 1")[0] == 0
    moodle = list(csv.DictReader(io.StringIO((out / "export-moodle.csv").read_text())))
    assert {r["ID number"]: float(r["Homework 1"]) for r in moodle} == {"S-1": totals["alice"], "S-2": totals["bob"]}

    assert _cli("export", out, "--format", "csv", "--roster", roster)[0] == 0
    plain = {r["submission"]: r for r in csv.DictReader(io.StringIO((out / "export-csv.csv").read_text()))}
    for name, by_exercise in points.items():
        assert {e: float(plain[name][e]) for e in by_exercise} == by_exercise
        assert float(plain[name]["total"]) == totals[name]
    assert plain["carl"]["status"] == "no submission"


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=folder, check=True,
                   capture_output=True)


def test_a_solved_stub_in_the_checkout_makes_the_release_refuse(course, tmp_path):
    folder = _course_copy(course, tmp_path / "course")
    _git(folder, "init", "-q")
    _git(folder, "add", "-A")
    _git(folder, "commit", "-q", "-m", "the course")
    committed = (folder / "exercises" / "exercise1.py").read_bytes()
    assert committed_sources(load_course(folder)).read_bytes(folder / "exercises" / "exercise1.py") == committed
    shutil.copy(folder / "solutions" / "exercise1.py", folder / "exercises" / "exercise1.py")  # tried the course
    (folder / "suites" / "helper_new.py").write_text("# not committed\n")  # not copied: not listed

    with pytest.raises(UncommittedCourse, match=r"exercises/exercise1\.py \(modified\)"):
        build_release(load_course(folder), tmp_path / "copy")
    code, output = _cli("release", tmp_path / "copy", "--course", folder)

    assert code == 2 and "exercises/exercise1.py (modified)" in output and "helper_new" not in output
    assert not (tmp_path / "copy").exists()


def test_a_course_outside_git_is_copied_as_it_is_with_a_warning(course, tmp_path):
    folder = _course_copy(course, tmp_path / "course")
    sources = committed_sources(load_course(folder))
    assert sources.warnings and "not in a git checkout" in sources.warnings[0]
    assert sources.read_bytes(folder / "exercises" / "exercise1.py") == course.exercise("exercise1").stub.read_bytes()


def test_a_course_declares_the_packages_its_exercises_import(course, tmp_path):
    folder = _course_copy(course, tmp_path / "course", extra='requirements = ["matplotlib>=3.7", "scipy"]\n')
    declared = load_course(folder)
    assert declared.requirements == ("matplotlib>=3.7", "scipy")
    assert "/autograder/venv/bin/pip install --no-cache-dir 'matplotlib>=3.7' scipy" in \
        setup_script("2.13.0", declared.requirements)
    assert '"matplotlib>=3.7",' in student_pyproject(declared)
    bad = _course_copy(course, tmp_path / "bad", extra='requirements = ["--index-url=http://evil.example"]\n')
    with pytest.raises(CourseError, match="requirement"):
        load_course(bad)


@pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None, reason="matplotlib is not installed")
def test_a_notebook_that_plots_is_graded_in_the_sandbox(course, tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    plotting = ("import os\nimport matplotlib.pyplot as plt\n"
                "assert os.path.samefile(os.environ['MPLCONFIGDIR'], '.'), 'matplotlib config outside scratch'\n"
                "assert os.environ['MPLBACKEND'] == 'Agg'\n"
                "plt.plot([0, 1, 2], [1, 0, 2])\nplt.title('loss')\nplt.savefig('loss.png')\nplt.show()\n")
    notebook = new_notebook(cells=[new_code_cell(course.exercise("exercise1").solution.read_text()),
                                   new_code_cell(plotting)])
    nbformat.write(notebook, subs / "plotter.ipynb")

    outcome = controller.run_batch(subs, tmp_path / "out", course, exercise_ids=["exercise1"], jobs=1)

    assert outcome.graded == ["plotter"]
    assert _rows(tmp_path / "out")["plotter"][1:4] == ["graded", "10", "10"]
