"""`grade watch`: which saves grade what, and a warm session that grades every
save as `grade exerciseN` would, through syntax errors, editors' swap files
and atomic renames, and stops leaving nothing behind."""
from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.commands.watch import (WatchRound, Watched, exercises_touched, is_submission_file, score_changes,
                                   watch)
from grader.options import GradeOptions
from grader.results import ExerciseResult, TestResult
from grader.verdicts import Verdict

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", ["exercise3.py", "exercise3.ipynb", "helpers.py", "my notes.ipynb"])
def test_a_save_of_a_submission_file_counts(name):
    assert is_submission_file(name)


@pytest.mark.parametrize("name", [".exercise3.py.swp", "exercise3.py~", "4913", ".#exercise3.py", "~exercise3.py",
                                  "exercise3.py.orig", "iris.csv", ".ipynb_checkpoints", "exercise3.py.tmp"])
def test_an_editor_s_swap_backup_or_data_file_does_not(name):
    assert not is_submission_file(name)


def test_each_changed_file_grades_its_exercise_a_helper_every_exercise(course, tmp_path):
    specs = [course.exercise(i) for i in ("exercise1", "exercise2", "exercise3")]
    folder = Watched.of(tmp_path)
    others = {s.filename for s in course.exercises} - {s.filename for s in specs}
    ids = lambda changed: [s.id for s in exercises_touched([tmp_path / n for n in changed], folder, specs,  # noqa: E731
                                                           others)]
    assert ids(["exercise2.py"]) == ["exercise2"]
    assert ids(["exercise3.ipynb", "exercise1.py"]) == ["exercise1", "exercise3"]
    assert ids(["helpers.py"]) == ["exercise1", "exercise2", "exercise3"]
    assert ids([".exercise2.py.swp", "exercise2.py~", "exercise9.py"]) == []
    assert ids(["exercise9.py"]) == []  # not one of the watched exercises
    elsewhere = tmp_path / "sub"
    assert exercises_touched([elsewhere / "exercise1.py"], folder, specs) == []


def test_a_single_watched_file_grades_only_on_its_own_saves(course, tmp_path):
    specs = [course.exercise("exercise3")]
    (tmp_path / "mine.py").write_text("")
    one = Watched.of(tmp_path / "mine.py")
    assert [s.id for s in exercises_touched([tmp_path / "mine.py"], one, specs)] == ["exercise3"]
    assert exercises_touched([tmp_path / "other.py", tmp_path / "exercise3.py"], one, specs) == []


def _exercise(exercise_id: str, passed: tuple[bool, ...]) -> ExerciseResult:
    tests = tuple(TestResult(name=f"t{i}", title="", max_points=5, passed=p) for i, p in enumerate(passed))
    return ExerciseResult(exercise_id=exercise_id, title="", tests=tests, seed=1)


def test_score_changes_say_before_and_after():
    before = {"exercise3": _exercise("exercise3", (False, True))}
    assert score_changes(before, [_exercise("exercise3", (True, True)), _exercise("exercise4", (False, False))]) == [
        "exercise3: 5/10 → 10/10", "exercise4: 0/10"]
    assert score_changes(before, [_exercise("exercise3", (False, True))]) == ["exercise3: 5/10 → 5/10 (unchanged)"]


def _save_atomically(path: Path, text: str) -> None:
    """What many editors do: write a temporary file beside it, then rename it over."""
    temporary = path.with_name(f".{path.name}.tmp~")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_watch_grades_every_save_as_grade_exercise_would(course, zygote, tmp_path):
    """Stub → solution → a half-written file → swap files (no round) → an
    atomic save of a file that loops forever (killed at its limit) → the
    solution again: each save is one round with the verdict `grade` gives."""
    solution = course.exercise("exercise1").solution.read_text()
    target = tmp_path / "exercise1.py"
    shutil.copy(course.exercise("exercise1").stub, target)
    rounds: queue.Queue[WatchRound] = queue.Queue()
    done = threading.Event()
    thread = threading.Thread(target=watch, kwargs=dict(
        course=course, exercise_ids=["exercise1"], submission=tmp_path, options=GradeOptions(timeout_s=2),
        zygote=zygote, show=rounds.put, stop=done.is_set), daemon=True)
    thread.start()

    def next_round() -> WatchRound:
        return rounds.get(timeout=60)

    try:
        first = next_round()
        assert first.result is not None and first.result.score == 0 and first.changes == ["exercise1: 0/10"]
        target.write_text(solution)
        second = next_round()
        assert second.result is not None and second.result.score == 10
        assert second.changes == ["exercise1: 0/10 → 10/10"]
        target.write_text("def model(x, w, b:\n")  # half-written
        broken = next_round()
        assert broken.result is not None and broken.result.score == 0
        assert {t.verdict for t in broken.result.exercises[0].tests} == {Verdict.IMPORT_ERROR}
        (tmp_path / ".exercise1.py.swp").write_text("swap")
        (tmp_path / "exercise1.py~").write_text(solution)
        _save_atomically(target, "import time\nwhile True:\n    time.sleep(0.01)\n")
        hung = next_round()  # the swap and backup files made no round of their own
        assert hung.result is not None and hung.result.score == 0
        assert Verdict.TIME_LIMIT in {t.verdict for t in hung.result.exercises[0].tests}
        _save_atomically(target, solution)
        back = next_round()
        assert back.result is not None and back.result.score == 10 and back.changes == ["exercise1: 0/10 → 10/10"]
        with pytest.raises(queue.Empty):
            rounds.get(timeout=0.5)
    finally:
        done.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_a_notebook_saved_from_jupyter_is_read_again_on_every_save(course, zygote, tmp_path):
    """Jupyter saves by writing a temporary file and renaming it over the notebook."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    def notebook(source: str) -> str:
        return nbformat.writes(new_notebook(cells=[new_code_cell(source)]))

    target = tmp_path / "exercise1.ipynb"
    target.write_text(notebook(course.exercise("exercise1").stub.read_text()))
    rounds: queue.Queue[WatchRound] = queue.Queue()
    done = threading.Event()
    thread = threading.Thread(target=watch, kwargs=dict(
        course=course, exercise_ids=["exercise1"], submission=target, options=GradeOptions(),
        zygote=zygote, show=rounds.put, stop=done.is_set), daemon=True)
    thread.start()
    try:
        assert rounds.get(timeout=60).result.score == 0
        _save_atomically(target, notebook(course.exercise("exercise1").solution.read_text()))
        assert rounds.get(timeout=60).changes == ["exercise1: 0/10 → 10/10"]
        (tmp_path / "Untitled.ipynb").write_text(notebook("x = 1"))  # another notebook: not watched
        with pytest.raises(queue.Empty):
            rounds.get(timeout=0.5)
    finally:
        done.set()
        thread.join(timeout=10)


def test_ctrl_c_stops_watching_and_leaves_no_process_behind(tmp_path):
    """The console script, as a student runs it: Ctrl-C ends it, its zygote and rooms with it."""
    shutil.copy(REPO / "exercises" / "exercise1.py", tmp_path / "exercise1.py")
    process = subprocess.Popen([sys.executable, "-m", "grader", "watch", "exercise1", "--submission", str(tmp_path),
                                "--no-report", "--course", str(REPO)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    assert process.stdout is not None
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "watching" in line:
            break
    children = _descendants(process.pid)
    assert children, "no zygote started"
    os.killpg(process.pid, signal.SIGINT)
    rest = process.communicate(timeout=30)[0]
    assert process.returncode == 0, "".join(seen) + rest
    assert "stopped watching" in rest and "Traceback" not in rest
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in children if _alive(pid)]


def _descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        for status in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = status.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == parent:
                child = int(status.parent.name)
                found.append(child)
                frontier.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"
