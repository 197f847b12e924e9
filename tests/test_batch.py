"""Batch grading: a small class graded end to end through the library and the
CLI (real workers, real sandboxes), then the pieces that must hold without a
sandbox: zip safety, the class-summary math, a crashing or interrupted worker
(played by a tiny fake worker script), and --resume's bookkeeping."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import re
import statistics
import stat
import sys
import tempfile
import textwrap
import time
import zipfile
from collections import Counter
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner
from nbformat.v4 import new_code_cell, new_notebook

from grader.commands.batch import controller, entries, local_workers, worker
from grader.commands.batch.events import Graded, Planned, Retry
from grader.record import classbook, tally
from grader.record.classbook import submission_folder
from grader.course.archives import Member, UnsafeArchive, ZipLimits, extract_sources, plan_extraction, read_capped
from grader.outputs.files import write_atomic
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.results import ExerciseResult, SubmissionResult
from grader.results import TestResult as GradedTest  # not collected by pytest
from grader.course.catalogue import load_course
from grader.course.submissions import from_entry
from grader.errors import UserError
from grader.record.database import ClassRecord
from grader.status import Status
from grader.verdicts import Verdict
from grader.words import counted


HERE = Path(__file__).resolve().parent
# Every exercise of the course, as its file is named: derived, so a new exercise needs no edit here.
EXERCISES = [spec.filename for spec in load_course(Path(__file__).resolve().parents[1]).exercises]


# ---------------------------------------------------------------------------
# A small class, graded once through the library
# ---------------------------------------------------------------------------
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


@pytest.fixture(scope="module")
def classroom(course, tmp_path_factory):
    """Six entries: a correct folder, a zip one folder down, a zip slip, a lone
    .py, a folder missing exercises (one of them not UTF-8), an exit at import."""
    root = tmp_path_factory.mktemp("batch")
    subs = root / "submissions"
    subs.mkdir()
    solutions = {f: (course.root / "solutions" / f).read_bytes() for f in EXERCISES}
    (subs / "alice").mkdir()
    for filename, data in solutions.items():
        (subs / "alice" / filename).write_bytes(data)
    _zip(subs / "Bob.zip", {"bob/exercise1.py": solutions["exercise1.py"],
                            "bob/exercise3.py": solutions["exercise3.py"],
                            "__MACOSX/bob/._exercise1.py": b"\x00\x05\x16\x07"})
    slip_target = root / "slipped.py"
    _zip(subs / "mallory.zip", {"exercise1.py": solutions["exercise1.py"],
                                "../" * 30 + str(slip_target).lstrip("/"): b"print('escaped')"})
    (subs / "carol.py").write_bytes(solutions["exercise1.py"])
    (subs / "dave").mkdir()
    (subs / "dave" / "exercise1.py").write_bytes(solutions["exercise1.py"])
    (subs / "dave" / "exercise2.py").write_bytes("# caf\xe9 = 'latin-1'\nx = '\xe9\n".encode("latin-1"))
    (subs / "erin").mkdir()
    (subs / "erin" / "exercise1.py").write_bytes((HERE / "hostile" / "exit_at_import.py").read_bytes())
    (subs / ".DS_Store").write_bytes(b"junk")
    return root, subs, slip_target


@pytest.fixture(scope="module")
def library_run(course, classroom, tmp_path_factory):
    root, subs, _ = classroom
    out = root / "out"
    temp = tmp_path_factory.mktemp("temp")
    before = _snapshot(root)
    events = []
    with pytest.MonkeyPatch.context() as patch:  # every temporary file of the run lands here
        patch.setenv("TMPDIR", str(temp))
        patch.setattr(tempfile, "tempdir", str(temp))
        outcome = controller.run_batch(subs, out, course, jobs=2, on_progress=events.append)
    return outcome, out, before, temp, events


def _gradebook(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))


def test_gradebook_lists_every_entry_by_name_with_points_earned(course, library_run):
    outcome, out, *_ = library_run
    rows = _gradebook(out)
    assert rows[0] == ["submission", "status", *course.ids, "total", "notes"]
    points = [f"{spec.points:g}" for spec in course.exercises]
    assert rows[1] == ["(maximum points)", "maximum", *points, f"{sum(s.points for s in course.exercises):g}", ""]
    by_name = {row[0]: row[2:-1] for row in rows[2:]}
    status = {row[0]: row[1] for row in rows[2:]}
    assert [row[0] for row in rows[2:]] == ["alice", "Bob", "carol", "dave", "erin", "mallory"]
    rest = ["0"] * (len(points) - 3)  # the exercises after exercise3
    assert by_name["alice"] == rows[1][2:-1]  # every point
    assert by_name["Bob"] == ["10", "0", "10", *rest, "20"]  # files one folder down in the zip
    assert by_name["dave"] == ["10", "0", "0", *rest, "10"]  # missing ones score zero
    assert by_name["carol"][-1] == by_name["erin"][-1] == by_name["mallory"][-1] == "0"
    # a zero that could not be graded says so: a lone .py and an unsafe zip are refused
    assert status == {"alice": "graded", "Bob": "graded", "carol": "refused", "dave": "graded", "erin": "graded",
                      "mallory": "refused"}
    assert sorted(outcome.graded) == sorted(by_name) and not outcome.failed
    assert outcome.hidden == [".DS_Store"]


def test_each_submission_gets_its_report_and_a_gradescope_results_file(library_run):
    outcome, out, *_ = library_run
    for row in _gradebook(out)[2:]:
        data = json.loads((submission_folder(out, row[0]) / "results.json").read_text())
        result = from_gradescope(data)
        assert result.submission == row[0]
        assert data["score"] == result.score == float(row[-2])
        assert result.seed == outcome.summary.seeds[0]  # the seed is recorded
        html = (submission_folder(out, row[0]) / "report.html").read_text()
        assert f"{result.score:g}</strong> / {result.max_score:g}" in html


def test_unusable_entries_are_rows_with_a_problem_in_plain_words(library_run):
    _, out, *_ = library_run
    carol = from_gradescope(json.loads((submission_folder(out, "carol") / "results.json").read_text()))
    assert "carol.py is a single Python file" in carol.exercises[0].problem
    mallory = from_gradescope(json.loads((submission_folder(out, "mallory") / "results.json").read_text()))
    assert "leaves its folder" in mallory.exercises[0].problem
    assert mallory.score == 0  # a zip that tries one trick is not unpacked at all
    dave = from_gradescope(json.loads((submission_folder(out, "dave") / "results.json").read_text()))
    exercise2 = dave.exercises[1]
    assert exercise2.submitted and "syntax error" in exercise2.problem  # not UTF-8: the sandbox says so
    assert dave.exercises[2].problem == "exercise3.py was not submitted"


def test_a_submission_exiting_at_import_is_a_verdict_not_a_crash(library_run):
    outcome, out, *_ = library_run
    erin = from_gradescope(json.loads((submission_folder(out, "erin") / "results.json").read_text()))
    assert {t.verdict for t in erin.exercises[0].tests} == {"exited"}
    assert ("exited", 1) in outcome.summary.verdicts


def test_the_class_summary_page(library_run):
    _, out, *_ = library_run
    html = (out / "index.html").read_text()
    assert html.lower().count("<script") == 1 and "<script src" not in html.lower()  # the one inline sorter
    assert "http" not in html.split("<body")[1]
    assert "<script" not in (submission_folder(out, "alice") / "report.html").read_text().lower()
    assert "Hidden tests, most failed first" in html and "<svg" in html
    for name in ("alice", "Bob", "carol", "dave", "erin", "mallory"):
        assert f'href="submissions/{name}/report.html"' in html
    rates = [float(r) for r in re.findall(r'<td class="num">([\d.]+)%</td>', html)]
    assert rates and rates == sorted(rates)  # most failed first


def test_nothing_is_written_outside_out_and_temporary_files_are_removed(classroom, library_run):
    root, _, slip_target = classroom
    _, out, before, temp, _ = library_run
    assert not slip_target.exists()
    assert all(out in p.parents or p == out for p in _snapshot(root) - before)
    # (torch may leave its own cache folder, torchinductor_<user>, in TMPDIR)
    assert [p.name for p in temp.iterdir() if p.name.startswith("torchgrade")] == []


def test_progress_is_reported_per_submission(library_run):
    *_, events = library_run
    assert events[0] == Planned(total=6, skipped=0, jobs=2)
    assert sorted(e.submission for e in events[1:] if isinstance(e, Graded)) == \
        sorted(["alice", "Bob", "carol", "dave", "erin", "mallory"])


# ---------------------------------------------------------------------------
# The CLI once, then --resume through the library on its output
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli_run(course, classroom):
    from grader.cli import main

    root, subs, _ = classroom
    out = root / "cli-out"
    result = CliRunner().invoke(main, ["batch", str(subs), "--out", str(out), "--jobs", "2", "--course",
                                       str(course.root), "--exercise", "exercise1", "--exercise", "exercise3"])
    return result, out


def test_cli_grades_the_chosen_exercises_and_says_where_the_files_are(cli_run):
    result, out = cli_run
    assert result.exit_code == 0, result.output
    assert _gradebook(out)[0] == ["submission", "status", "exercise1", "exercise3", "total", "notes"]
    assert "graded 6 submissions" in result.output
    assert str(out / "index.html") in result.output
    assert "or crashed: exited 1" in result.output


def test_resume_grades_only_what_changed_and_the_same_work_scores_the_same(course, classroom, cli_run):
    _, subs, _ = classroom
    _, out = cli_run
    mtimes = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/results.json")}
    first = from_gradescope(json.loads((submission_folder(out, "dave") / "results.json").read_text()))
    with (subs / "dave" / "exercise1.py").open("a") as edited:  # dave edits a file inside his folder
        edited.write("\n# tidied up\n")
    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise1", "exercise3"], jobs=2, resume=True)
    assert outcome.graded == ["dave"] and len(outcome.skipped) == 5 and outcome.jobs == 1
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/results.json")}
    assert {name for name in mtimes if after[name] != mtimes[name]} == {"dave"}
    again = from_gradescope(json.loads((submission_folder(out, "dave") / "results.json").read_text()))
    assert again.seed == first.seed
    assert [(t.name, t.passed, t.message) for e in again.exercises for t in e.tests] == \
        [(t.name, t.passed, t.message) for e in first.exercises for t in e.tests]


# ---------------------------------------------------------------------------
# Zip safety (pure, no sandbox)
# ---------------------------------------------------------------------------
def _info(name: str, size: int = 10, mode: int | None = None) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.file_size = size
    if mode is not None:
        info.external_attr = mode << 16
    return info


@pytest.mark.parametrize("name, words", [
    ("../evil.py", "leaves its folder"), ("sub/../../evil.py", "leaves its folder"),
    ("..\\evil.py", "leaves its folder"), ("/etc/evil.py", "absolute path"), ("C:/evil.py", "absolute path"),
])
def test_a_member_that_could_escape_refuses_the_zip(name, words):
    with pytest.raises(UnsafeArchive, match=words):
        plan_extraction([_info("exercise1.py"), _info(name)], EXERCISES)


def test_symbolic_links_and_special_files_refuse_the_zip():
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        plan_extraction([_info("exercise1.py", mode=stat.S_IFLNK | 0o777)], EXERCISES)
    with pytest.raises(UnsafeArchive, match="not a regular file"):
        plan_extraction([_info("exercise1.py", mode=stat.S_IFIFO | 0o644)], EXERCISES)
    assert plan_extraction([_info("exercise1.py", mode=stat.S_IFREG | 0o644)], EXERCISES)


def test_declared_sizes_and_member_count_are_capped():
    limits = ZipLimits(members=5, file_bytes=100, total_bytes=150)
    with pytest.raises(UnsafeArchive, match="6 entries"):
        plan_extraction([_info(f"f{n}.txt") for n in range(6)], EXERCISES, limits)
    with pytest.raises(UnsafeArchive, match="101 bytes"):
        plan_extraction([_info("exercise1.py", 101)], EXERCISES, limits)
    with pytest.raises(UnsafeArchive, match="add up"):
        plan_extraction([_info("exercise1.py", 100), _info("helper.py", 51)], EXERCISES, limits)


def test_only_importable_python_files_at_the_top_or_one_folder_down_are_taken():
    plan = plan_extraction([_info("alice/"), _info("alice/exercise1.py"), _info("alice/helper.py"),
                            _info("alice/notes.txt"), _info("alice/deep/exercise2.py"), _info("alice/my-file.py"),
                            _info("__MACOSX/alice/._exercise1.py"), _info("__MACOSX/exercise3.py")], EXERCISES)
    assert [(m.name, m.filename) for m in plan] == [("alice/exercise1.py", "exercise1.py"),
                                                     ("alice/helper.py", "helper.py")]
    assert plan_extraction([_info("notes.txt"), _info("helper.py")], EXERCISES) == []
    with pytest.raises(UnsafeArchive, match="more than one folder"):
        plan_extraction([_info("exercise1.py"), _info("copy/exercise2.py")], EXERCISES)
    with pytest.raises(UnsafeArchive, match="more than once"):
        plan_extraction([_info("exercise1.py"), _info("exercise1.py")], EXERCISES)


def test_inflated_bytes_are_counted_while_reading(tmp_path):
    path = _zip(tmp_path / "a.zip", {"exercise1.py": b"x" * 1000})
    with zipfile.ZipFile(path) as archive:
        member = Member("exercise1.py", "exercise1.py", 1000)
        assert read_capped(archive, member, file_bytes=1000, budget_bytes=5000) == b"x" * 1000
        with pytest.raises(UnsafeArchive, match="more bytes than it declares"):
            read_capped(archive, member, file_bytes=1000, budget_bytes=999)


def test_a_zip_bomb_that_lies_about_its_size_is_refused_and_nothing_is_written(tmp_path):
    honest = tmp_path / "honest.zip"
    _zip(honest, {"exercise1.py": b"0" * (3 << 20)})  # 3 MB of zeros, a few KB packed
    data = bytearray(honest.read_bytes())
    # Rewrite the uncompressed size (3 MB) to 100 bytes in the local header and the central directory.
    true_size = (3 << 20).to_bytes(4, "little")
    assert data.count(true_size) == 2
    data = data.replace(true_size, (100).to_bytes(4, "little"))
    liar = tmp_path / "liar.zip"
    liar.write_bytes(bytes(data))
    with pytest.raises(UnsafeArchive):
        extract_sources(liar, tmp_path / "out", EXERCISES)
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else True
    with pytest.raises(UnsafeArchive, match="bytes unpacked"):
        extract_sources(honest, tmp_path / "out2", EXERCISES)


def test_entries_become_submissions_or_problems(tmp_path):
    (tmp_path / "notebook.ipynb").write_text("{}")
    assert "is not a Jupyter notebook" in from_entry(tmp_path / "notebook.ipynb", EXERCISES, name="n",
                                                     unpack_to=tmp_path / "u1").problem
    nbformat.write(new_notebook(cells=[new_code_cell("def model(x, w, b):\n    return w * x + b")]),
                   tmp_path / "alice.ipynb")
    alice = from_entry(tmp_path / "alice.ipynb", EXERCISES, name="alice", unpack_to=tmp_path / "u5")
    assert alice.problem is None and list(alice.files) == EXERCISES  # each graded from the names it defines
    assert b"return w * x + b" in alice.module_source("exercise1.py")
    (tmp_path / "lone.py").write_text("x = 1\n")
    assert "is a single Python file" in from_entry(tmp_path / "lone.py", EXERCISES, name="l",
                                                   unpack_to=tmp_path / "u6").problem
    (tmp_path / "garbage.zip").write_bytes(b"not a zip at all")
    assert "not a readable zip" in from_entry(tmp_path / "garbage.zip", EXERCISES, name="g",
                                              unpack_to=tmp_path / "u2").problem
    _zip(tmp_path / "empty.zip", {"work/notes.txt": b"hi"})
    assert f"holds none of {EXERCISES[0]} … {EXERCISES[-1]} (it holds: work/notes.txt)" in from_entry(
        tmp_path / "empty.zip", EXERCISES, name="e", unpack_to=tmp_path / "u3").problem
    folder = tmp_path / "linked"
    folder.mkdir()
    (folder / "exercise2.py").write_text("x = 1\n")
    (folder / "exercise1.py").symlink_to(tmp_path / "secret.py")
    (tmp_path / "secret.py").write_text("solution = 42\n")
    linked = from_entry(folder, EXERCISES, name="linked", unpack_to=tmp_path / "u4")
    assert list(linked.files) == ["exercise2.py"]  # a link could point at a solution
    assert linked.notes == ("exercise1.py is a symbolic link; it was not graded",)


# ---------------------------------------------------------------------------
# The class summary's numbers (pure)
# ---------------------------------------------------------------------------
def _result(name: str, *exercises: ExerciseResult, seed: int = 7) -> SubmissionResult:
    return SubmissionResult(submission=name, exercises=exercises, seed=seed)


def _exercise(exercise_id: str, *outcomes: tuple[str, bool, str | None], submitted: bool = True) -> ExerciseResult:
    tests = tuple(GradedTest(name, name.replace("_", " "), 2.0, passed, hint=hint) for name, passed, hint in outcomes)
    return ExerciseResult(exercise_id, exercise_id.title(), tests, seed=7,
                          status=Status.GRADED if submitted else Status.NOT_SUBMITTED)


CLASS = [
    _result("b", _exercise("ex1", ("t_a", True, None), ("t_b", False, "h1")),
            _exercise("ex2", ("t_c", False, "h2"))),
    _result("a", _exercise("ex1", ("t_a", True, None), ("t_b", True, None)),
            _exercise("ex2", ("t_c", False, "h2"))),
    _result("C", _exercise("ex1", ("t_a", False, "h1"), ("t_b", False, "h1")),
            _exercise("ex2", ("t_c", False, None), submitted=False)),
]


def test_histogram_bins_totals_and_keeps_full_marks_in_the_last_bin():
    bins = tally.histogram([0, 4.9, 5, 49.9, 50], 50, bins=10)
    assert [b.count for b in bins] == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert (bins[0].low, bins[0].high, bins[-1].high) == (0, 5, 50)
    assert tally.histogram([0, 0], 0) == (tally.Bin(0.0, 0.0, 2),)
    assert tally.histogram({0: 2, 50: 3}, 50, bins=10) == tally.histogram([0, 0, 50, 50, 50], 50, bins=10)


def test_means_and_medians_of_counted_values_are_those_of_the_values():
    assert tally.mean_median([1, 2, 4]) == (2.33, 2.0) and tally.mean_median([]) == (0.0, 0.0)
    assert tally.mean_median({1: 1, 2: 1, 4: 1}) == (2.33, 2.0)
    for values in ([3.5], [1, 2], [0, 0, 10, 10, 10, 2.5], [10 / 3] * 7 + [0] * 4, [5, 1, 5, 1, 2, 9, 9, 9]):
        assert tally.mean_median(Counter(values)) == (round(statistics.fmean(values), 2),
                                                      float(statistics.median(values))), values


def test_exercise_means_and_medians_count_not_submitted_as_zero():
    stats = {s.exercise_id: s for s in tally.summarize(CLASS, ["ex1", "ex2"]).exercises}
    assert (stats["ex1"].mean, stats["ex1"].median, stats["ex1"].full_marks) == (2.0, 2.0, 1)
    assert (stats["ex2"].submitted, stats["ex2"].count, stats["ex2"].max_points) == (2, 3, 2.0)


def test_points_set_by_hand_replace_the_graded_ones_in_the_class_numbers_but_not_in_pass_rates():
    counted = tally.ClassTally()
    counted.add(CLASS[0], {"ex1": 4.0})  # b: ex1 graded 2 of 4, set by hand to full marks
    for result in CLASS[1:]:
        counted.add(result)
    summary = counted.summary(["ex1", "ex2"])
    stats = {s.exercise_id: s for s in summary.exercises}
    assert (stats["ex1"].mean, stats["ex1"].full_marks) == (2.67, 2)  # 4, 4, 0
    assert summary.mean_total == 2.67
    assert [(s.name, s.passed) for s in summary.tests if s.exercise_id == "ex1"] == [("t_b", 1), ("t_a", 2)]


def test_pass_rates_are_among_submitters_and_sorted_most_failed_first():
    rates = [(s.exercise_id, s.name, s.passed, s.attempted) for s in tally.summarize(CLASS, ["ex1", "ex2"]).tests]
    assert rates == [("ex2", "t_c", 0, 2), ("ex1", "t_b", 1, 3), ("ex1", "t_a", 2, 3)]


def test_frequent_hints_count_each_submission_once():
    hints = tally.summarize(CLASS, ["ex1", "ex2"]).hints
    assert [(h.exercise_id, h.hint, h.count) for h in hints] == [("ex1", "h1", 2), ("ex2", "h2", 2)]


def test_each_exercise_counts_its_scores_its_most_failed_tests_and_its_hints_but_not_a_stubs():
    stub = _exercise("ex1", ("t_a", False, "h-stub"), ("t_b", False, "h-stub"))
    stub = ExerciseResult("ex1", "Ex1", tuple(GradedTest(t.name, t.title, 2.0, False, hint=t.hint,
                                                         verdict=Verdict.NOT_IMPLEMENTED) for t in stub.tests), seed=7)
    summary = tally.summarize([*CLASS, _result("d", stub)], ["ex1", "ex2"])
    ex1 = {s.exercise_id: s for s in summary.exercises}["ex1"]
    assert [(b.low, b.high, b.count) for b in ex1.distribution] == [  # C and d scored 0, b 2, a 4
        (0, 0, 2), (1, 1, 0), (2, 2, 1), (3, 3, 0), (4, 4, 1)]
    assert [(t.name, t.passed, t.attempted) for t in ex1.most_failed] == [("t_b", 1, 4), ("t_a", 2, 4)]
    assert [(h.hint, h.count) for h in ex1.hints] == [("h1", 2)]  # the stub's hint is not counted
    assert "h-stub" not in {h.hint for h in summary.hints}


def test_an_exercise_worth_many_or_half_points_gets_a_histogram_not_a_bar_per_point():
    assert len(tally.score_distribution({0.5: 2, 3: 1}, 4)) == tally.HISTOGRAM_BINS
    assert len(tally.score_distribution({30: 2}, 30)) == tally.HISTOGRAM_BINS
    assert [b.count for b in tally.score_distribution({2: 3}, 2)] == [0, 0, 3]


def test_the_summary_has_the_courses_columns_it_holds_in_the_courses_order():
    assert tally.ClassTally().columns(["ex1", "ex2"]) == ["ex1", "ex2"]  # before any result
    counted = tally.ClassTally()
    counted.add(CLASS[0])
    assert counted.columns(["ex0", "ex2", "ex1"]) == ["ex2", "ex1"]
    assert [s.exercise_id for s in counted.summary(["ex0", "ex2", "ex1"]).exercises] == ["ex2", "ex1"]


def test_entries_are_named_without_extension_unless_two_would_clash(tmp_path):
    (tmp_path / "alice").mkdir()
    for name in ("alice.zip", "bob.zip", "carol.py"):
        (tmp_path / name).write_bytes(b"")
    named = entries.name_entries(sorted(tmp_path.iterdir()))
    assert [e.name for e in named] == ["alice", "alice.zip", "bob", "carol"]
    assert local_workers.round_robin(list("abcde"), 2) == [["a", "c", "e"], ["b", "d"]]
    assert local_workers.round_robin(["a"], 4) == [["a"]]


def test_resume_keeps_results_only_when_fresh_and_from_the_same_settings(tmp_path):
    entry = entries.Entry("a", tmp_path / "a")
    entry.path.mkdir()
    (entry.path / "exercise1.py").write_text("x = 1\n")
    out = tmp_path / "out"
    assert not entries.is_up_to_date(entry, out, seed=7, exercise_ids=["ex1"])  # no results yet
    write_atomic(submission_folder(out, "a") / "results.json", json.dumps(to_gradescope(
        _result("a", _exercise("ex1", ("t_a", True, None))))))
    assert entries.is_up_to_date(entry, out, seed=7, exercise_ids=["ex1"])
    assert not entries.is_up_to_date(entry, out, seed=8, exercise_ids=["ex1"])
    assert not entries.is_up_to_date(entry, out, seed=7, exercise_ids=["ex1", "ex2"])
    later = time.time() + 5
    os.utime(entry.path / "exercise1.py", (later, later))
    assert not entries.is_up_to_date(entry, out, seed=7, exercise_ids=["ex1"])


# ---------------------------------------------------------------------------
# Workers that die, hang or fail: a fake worker script plays them
# ---------------------------------------------------------------------------
FAKE_WORKER = textwrap.dedent("""
    import json, os, signal, sys, time
    from pathlib import Path
    from grader.record.classbook import write_submission
    from grader.commands.batch.worker import graded_event
    from grader.results import ExerciseResult, SubmissionResult, TestResult

    job = json.loads(sys.stdin.read())
    Path(job["out"], ".pids").mkdir(exist_ok=True)
    Path(job["out"], ".pids", str(os.getpid())).touch()
    for entry in job["entries"]:  # as a real worker: every entry read before any is graded
        print(json.dumps({"event": "reading", "submission": entry["name"]}), flush=True)
        if entry["name"] == "dies-reading":
            os.kill(os.getpid(), signal.SIGKILL)
    print(json.dumps({"event": "grading"}), flush=True)
    for entry in job["entries"]:
        name = entry["name"]
        if name == "broken-grader":
            print(json.dumps({"event": "error", "message": "the hidden suites could not run: boom"}), flush=True)
            sys.exit(3)
        if name == "crasher":
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(float(os.environ.get("FAKE_WORKER_DELAY", "0")))
        tests = (TestResult("test_x", "x works", 5.0, True),)
        result = SubmissionResult(name, tuple(ExerciseResult(i, i, tests, seed=job["options"]["seed"] or 0)
                                              for i in job["exercises"]), seed=job["options"]["seed"] or 0)
        if job.get("write_files", True) and name not in job.get("not_written", ()):  # as a real worker
            write_submission(Path(job["out"]), result)
            with open(Path(job["out"], ".written"), "a") as log:
                log.write(name + "\\n")
        print(json.dumps(graded_event(result)), flush=True)
""")


@pytest.fixture
def fake_class(tmp_path):
    script = tmp_path / "fake_worker.py"
    script.write_text(FAKE_WORKER)
    subs = tmp_path / "subs"
    subs.mkdir()
    return [sys.executable, str(script)], subs


def _folders(subs: Path, *names: str) -> None:
    for name in names:
        (subs / name).mkdir()
        (subs / name / "exercise1.py").write_text("x = 1\n")


def test_a_crashing_worker_costs_only_the_submission_it_was_grading(course, fake_class, tmp_path):
    command, subs = fake_class
    _folders(subs, "a", "b", "crasher", "d", "e", "f")
    events = []
    outcome = controller.run_batch(subs, tmp_path / "out", course, jobs=2, command=command, on_progress=events.append)
    assert outcome.failed == ["crasher"]
    assert sorted(outcome.graded) == ["a", "b", "d", "e", "f"]
    assert any(isinstance(e, Retry) and "crasher" in e.submissions for e in events)
    rows = {row[0]: row for row in _gradebook(tmp_path / "out")[2:]}  # after the header and the maximum points
    assert rows["crasher"][1] == "grader failed" and rows["crasher"][2:-1] == [""] * (len(course.ids) + 1)  # not a score
    assert rows["a"][1:] == ["graded", *["5"] * len(course.ids), str(5 * len(course.ids)), ""]
    crasher = classbook.read_result(submission_folder(tmp_path / "out", "crasher"))
    assert crasher.max_score == sum(s.points for s in course.exercises)
    assert classbook.GRADER_FAILED in crasher.exercises[0].problem
    assert outcome.summary.grader_failed == ("crasher",)
    assert outcome.summary.count == 5 and outcome.summary.median_total == 5 * len(course.ids)  # not a zero
    # --resume grades it again; the others stay as they are
    entry = entries.Entry("crasher", subs / "crasher")
    assert not entries.is_up_to_date(entry, tmp_path / "out", seed=course.seed, exercise_ids=course.ids)


def test_each_submission_s_files_are_written_once_by_one_side(course, fake_class, tmp_path, monkeypatch):
    """A worker writes the files of what it graded, except where the controller must (an override in force:
    the page shows it); the controller writes those from the record. Never both."""
    from grader.outputs import html

    command, subs = fake_class
    _folders(subs, "ann", "bob")
    out = tmp_path / "out"
    controller.run_batch(subs, out, course, jobs=1, command=command)
    with ClassRecord.open(out) as record:
        record.set_override("ann", course.ids[0], 1.0, "partial credit for the idea")
    (out / ".written").unlink()
    pages: list[str] = []
    real = html.write_html
    monkeypatch.setattr(html, "write_html", lambda result, path, **kw: pages.append(result.submission)
                        or real(result, path, **kw))

    controller.run_batch(subs, out, course, jobs=1, command=command)

    by_worker = (out / ".written").read_text().split()
    assert sorted(by_worker + pages) == ["ann", "bob"] and pages == ["ann"]
    assert "set by hand" in (submission_folder(out, "ann") / "report.html").read_text()


def test_a_worker_dying_while_reading_an_entry_costs_only_that_entry(course, fake_class, tmp_path):
    """The entry it was reading is retried alone and gets the failed row; the ones behind it in its
    share never started: they go again together and are graded, never charged for it."""
    command, subs = fake_class
    _folders(subs, "a", "b", "c", "dies-reading", "e")
    events = []
    outcome = controller.run_batch(subs, tmp_path / "out", course, jobs=1, command=command, on_progress=events.append)
    assert outcome.failed == ["dies-reading"]
    assert sorted(outcome.graded) == ["a", "b", "c", "e"]
    retried = [list(e.submissions) for e in events if isinstance(e, Retry)]
    assert retried == [["dies-reading", "a", "b", "c", "e"]]  # it alone, then the others together
    assert len(outcome.worker_errors) == 2  # it killed its first worker, then the one it had alone


CONTROLLER = """
import sys
from pathlib import Path
from grader.commands.batch import controller
from grader.course.catalogue import load_course
subs, out, course, *command = sys.argv[1:]
controller.run_batch(Path(subs), Path(out), load_course(Path(course)), jobs=1, command=command)
"""


@pytest.mark.slow  # ~5 s: a controller process, killed mid-batch, then the resumed batch
def test_a_controller_killed_mid_batch_loses_nothing_and_resume_completes_it(course, fake_class, tmp_path,
                                                                             monkeypatch):
    """SIGKILL: no handler runs, no file is rebuilt. The class record holds what was stored; `--resume`
    grades the rest, keeps what was stored (not graded again) and rebuilds every file of OUT."""
    command, subs = fake_class
    names = [f"s{n}" for n in range(8)]
    _folders(subs, *names)
    out = tmp_path / "out"
    monkeypatch.setenv("FAKE_WORKER_DELAY", "0.3")
    batch = subprocess.Popen([sys.executable, "-c", CONTROLLER, str(subs), str(out), str(course.root), *command])
    deadline = time.monotonic() + 60
    while not _stored(out) >= 3 and time.monotonic() < deadline and batch.poll() is None:
        time.sleep(0.05)
    batch.kill()
    batch.wait()
    for pid in (out / ".pids").iterdir():  # its workers die with it (a real worker: PR_SET_PDEATHSIG)
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid.name), signal.SIGKILL)
    stored = _stored(out)
    assert 3 <= stored < len(names)  # killed mid-batch
    monkeypatch.setenv("FAKE_WORKER_DELAY", "0")
    outcome = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True)
    assert not outcome.failed and len(outcome.skipped) >= stored  # nothing stored was lost or graded again
    assert sorted(outcome.graded + outcome.skipped) == names
    assert {row[0] for row in _gradebook(out)[2:]} == set(names)
    with ClassRecord.open(out) as record:
        assert sorted(c.submission for c in record.current()) == names


def _stored(out: Path) -> int:
    """How many submissions the class record holds (read as another process would, while the batch runs)."""
    if not (out / "gradebook.sqlite").is_file():
        return 0
    with ClassRecord.open(out) as record:
        return len(record.current_names())


def test_entries_named_like_out_s_own_files_cannot_touch_them(course, fake_class, tmp_path):
    command, subs = fake_class
    reserved = ["gradebook.sqlite", "gradebook.sqlite-wal", "gradebook.sqlite-shm", "gradebook.csv", "index.html",
                "export-canvas.csv", "submissions", "alice"]
    _folders(subs, *reserved)
    out = tmp_path / "out"
    for resume in (False, True):
        outcome = controller.run_batch(subs, out, course, jobs=2, command=command, resume=resume)
        assert not outcome.failed and sorted(outcome.graded + outcome.skipped) == sorted(reserved)
        assert {row[0] for row in _gradebook(out)[2:]} == set(reserved)
        assert (out / "index.html").is_file() and (out / "gradebook.sqlite").is_file()
    assert len(outcome.skipped) == len(reserved)
    for name in reserved:
        assert classbook.read_result(submission_folder(out, name)).submission == name
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "gradebook.csv", "gradebook.sqlite", "index.html", "submissions"]


def test_an_out_from_before_the_submissions_folder_gets_it_written_from_its_record(course, fake_class, tmp_path):
    command, subs = fake_class
    _folders(subs, "a", "b")
    out = tmp_path / "out"
    controller.run_batch(subs, out, course, jobs=1, command=command)
    shutil.rmtree(out / classbook.SUBMISSIONS_FOLDER)  # as an older grader left it (its OUT/<name>/ are not read)
    outcome = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True)
    assert sorted(outcome.skipped) == ["a", "b"] and not outcome.graded
    for name in ("a", "b"):  # the summary's links lead somewhere
        assert classbook.read_result(submission_folder(out, name)).submission == name
        assert (submission_folder(out, name) / "report.html").is_file()


def test_ctrl_c_stops_the_workers_and_keeps_what_finished(course, fake_class, tmp_path, monkeypatch):
    command, subs = fake_class
    _folders(subs, *"abcdefgh")
    monkeypatch.setenv("FAKE_WORKER_DELAY", "0.3")

    graded: list[str] = []

    def interrupt_after_two(event: dict) -> None:
        if isinstance(event, Graded):
            graded.append(event.submission)
            if len(graded) >= 2:
                raise KeyboardInterrupt

    outcome = controller.run_batch(subs, tmp_path / "out", course, jobs=2, command=command,
                              on_progress=interrupt_after_two)
    assert outcome.interrupted
    finished = sorted(outcome.graded)  # stored in the class record (a file written after the stop is not)
    assert 2 <= len(finished) < 8
    assert [row[0] for row in _gradebook(tmp_path / "out")[2:]] == finished
    index = (tmp_path / "out" / "index.html").read_text()
    assert f"Not graded yet: {counted(8 - len(finished), 'submission')}" in index and "--resume" in index
    for pid in (tmp_path / "out" / ".pids").iterdir():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid.name), 0)


def test_a_grader_that_cannot_run_stops_the_batch_with_its_message(course, fake_class, tmp_path):
    command, subs = fake_class
    _folders(subs, "broken-grader")
    with pytest.raises(controller.BatchError, match="boom"):
        controller.run_batch(subs, tmp_path / "out", course, jobs=1, command=command)
    assert (tmp_path / "out" / "gradebook.csv").is_file()


def test_a_graded_event_says_the_submission_s_status_as_its_result_carries_it():
    result = _result("x", _exercise("ex1", ("t_a", False, None), submitted=False))
    assert worker.graded_event(result)["status"] == "not submitted"
    assert worker.graded_event(_result("y", _exercise("ex1", ("t_a", True, None))))["status"] == "graded"


def test_a_batch_exits_0_whatever_the_scores_3_when_the_grader_failed_and_130_when_interrupted(tmp_path):
    summary = tally.summarize([], [])
    assert controller.BatchOutcome(out=tmp_path, summary=summary, graded=["a"]).exit_status == 0
    assert controller.BatchOutcome(out=tmp_path, summary=summary, failed=["a"]).exit_status == 3
    assert controller.BatchOutcome(out=tmp_path, summary=summary, failed=["a"], interrupted=True).exit_status == 130


def test_an_out_graded_before_the_record_keeps_its_other_exercises_through_a_subset_run(course, fake_class, tmp_path):
    command, subs = fake_class
    _folders(subs, "a", "b")
    out = tmp_path / "out"
    for name in ("a", "b"):  # an OUT as a grader without a class record left it: results.json files only
        tests = (GradedTest("test_old", "old", 10.0, True),)
        classbook.write_submission(out, SubmissionResult(name, tuple(
            ExerciseResult(i, i, tests, seed=course.seed) for i in course.ids), seed=course.seed))

    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise1"], jobs=1, command=command)

    assert sorted(outcome.graded) == ["a", "b"]
    rows = {row[0]: row for row in _gradebook(out)[2:]}
    kept_points = ["10"] * (len(course.ids) - 1)  # exercise1 re-graded, the rest kept
    assert rows["a"][1:] == ["graded", "5", *kept_points, str(5 + 10 * len(kept_points)), ""]
    kept = from_gradescope(json.loads((submission_folder(out, "a") / "results.json").read_text()))
    assert [e.exercise_id for e in kept.exercises] == list(course.ids) and kept.score == 5 + 10 * len(kept_points)


# ---------------------------------------------------------------------------
# Re-grading some students into a class's OUT (the fake worker gives 5 points an exercise)
# ---------------------------------------------------------------------------
def _class_of_three(course, fake_class, tmp_path) -> tuple[list[str], Path, Path]:
    command, subs = fake_class
    _folders(subs, "ana", "ben", "ken")
    out = tmp_path / "out"
    controller.run_batch(subs, out, course, jobs=1, command=command)
    return command, subs, out


def test_a_one_student_folder_graded_into_a_class_s_out_leaves_everyone_else_as_they_were(course, fake_class,
                                                                                          tmp_path):
    command, subs, out = _class_of_three(course, fake_class, tmp_path)
    gradebook, index = _gradebook(out), (out / "index.html").read_text()
    (subs / "ken" / "exercise1.py").write_text("x = 2\n")  # ken submits again
    one = tmp_path / "one"
    shutil.copytree(subs / "ken", one / "ken")

    outcome = controller.run_batch(one, out, course, jobs=1, command=command)

    assert outcome.graded == ["ken"] and outcome.not_listed == ["ana", "ben"] and not outcome.removed
    assert outcome.summary.count == 3
    assert _gradebook(out) == gradebook  # the same rows: every result as it was (ken's points did not move)
    assert re.findall(r"\d+ submissions? graded", (out / "index.html").read_text()) == \
        re.findall(r"\d+ submissions? graded", index)
    with ClassRecord.open(out) as record:
        assert {c.submission: c.status for c in record.current()} == dict.fromkeys(["ana", "ben", "ken"],
                                                                                  Status.GRADED)
        assert record.roll_events() == []
    again = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True)
    assert not again.graded and sorted(again.skipped) == ["ana", "ben", "ken"]  # nothing to grade again


def test_pruning_is_only_on_request_recorded_and_a_restored_entry_is_not_graded_again(course, fake_class, tmp_path):
    command, subs, out = _class_of_three(course, fake_class, tmp_path)
    shutil.move(subs / "ben", tmp_path / "ben")  # ben withdrew

    kept = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True)
    assert kept.not_listed == ["ben"] and not kept.removed and kept.summary.count == 3
    pruned = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True, prune=True)
    assert pruned.removed == ["ben"] and not pruned.graded and pruned.summary.count == 2
    assert {row[0]: row[1] for row in _gradebook(out)[2:]}["ben"] == "removed"

    shutil.move(tmp_path / "ben", subs / "ben")  # ben is back, with the same files
    back = controller.run_batch(subs, out, course, jobs=1, command=command, resume=True)
    assert back.restored == ["ben"] and not back.graded and sorted(back.skipped) == ["ana", "ben", "ken"]
    assert {row[0]: row[1] for row in _gradebook(out)[2:]}["ben"] == "graded" and back.summary.count == 3
    from grader.commands import record as commands
    text = commands.show_history(out, "ben")
    assert "removed from the class  (no longer in the submissions folder (--prune))" in text
    assert "restored to the class  (back in the submissions folder)" in text


def test_only_grades_the_entries_named_and_refuses_a_name_it_lacks(course, fake_class, tmp_path):
    command, subs, out = _class_of_three(course, fake_class, tmp_path)
    outcome = controller.run_batch(subs, out, course, jobs=1, command=command, only=["ken"])
    assert outcome.graded == ["ken"] and outcome.only == ["ken"] and not outcome.not_listed
    with pytest.raises(UserError, match="'zed', not an entry of SUBMISSIONS"):
        controller.run_batch(subs, out, course, jobs=1, command=command, only=["zed"])
    with pytest.raises(UserError, match="one or the other"):
        controller.run_batch(subs, out, course, jobs=1, command=command, only=["ken"], prune=True)
    from grader.cli import main
    result = CliRunner().invoke(main, ["batch", str(subs), "--out", str(out), "--only", "zed", "--course",
                                       str(course.root)])
    assert result.exit_code == 2 and "'zed', not an entry" in result.output
