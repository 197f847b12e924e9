"""The sandbox boundary (issue 14, classes 1 and 2): the grader never follows a
path a sandbox can write, runs only the course files it read before any
sandbox existed, tells a sandbox none of its paths, and bounds every wait on
a sandbox, through ``runner.grade`` and ``grade batch`` alike."""
from __future__ import annotations

import os
import shutil
import socket
import stat
import struct
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from grader.commands.batch import controller
from grader.record import classbook
from grader.options import GradeOptions
from grader.course.catalogue import load_course
from grader.course.submissions import from_path
from grader.engine import runner
from grader.engine.snapshot import CourseFiles
from grader.options import GraderError
from grader.sandbox.channel import Channel, ChannelClosed, ChannelTimeout, FrameTooLarge
from grader.sandbox.client import Budget, Sandbox
from grader.sandbox.limits import Limits

from corpus import HOSTILE

REPO = Path(__file__).resolve().parent.parent

# Blinds the room's own between-exercise checks (they run in the room: the
# submission can reach them), so that what it plants stays for the next
# exercise of the same room, as ARCHITECTURE.md's "a room's folder is the room's" assumes.
BLIND_THE_ROOM = '''
def _blind_the_room():
    import gc
    for obj in gc.get_objects():
        if type(obj).__name__ == "RoomBaseline":
            object.__setattr__(obj, "dirt", lambda **kwargs: [])
'''

# Exercise 1, correct, that plants in its scratch folder, under the names of
# the exercises that follow, a link to a file outside (absolute; relative; by
# /proc/self/root), a FIFO (or, where the walls forbid FIFOs, a folder) and
# a link to a whole folder outside. The targets are sentinels the test owns
# beside the scratch folder, never real course files.
PLANTER = BLIND_THE_ROOM + '''
import os

scratch = os.getcwd()
outside = os.path.join(os.path.dirname(scratch), "sentinel")
planted = []
for name, target in (("exercise2.py", os.path.join(outside, "target2.py")),
                     ("exercise3.py", os.path.join("..", "sentinel", "target3.py")),
                     ("exercise4.py", "/proc/self/root" + os.path.join(outside, "target4.py")),
                     ("outside", outside)):
    try:
        os.symlink(target, name)
        planted.append(name)
    except OSError:
        pass
try:
    os.mkfifo("exercise5.py")
except OSError:
    os.mkdir("exercise5.py")
    open(os.path.join("exercise5.py", "inside.txt"), "w").write("x")
planted.append("exercise5.py")
_blind_the_room()


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
'''

SENTINELS = ("target2.py", "target3.py", "target4.py", "untouched.txt")


def _plant_sentinels(tmpdir: Path) -> Path:
    sentinel = tmpdir / "sentinel"
    sentinel.mkdir(parents=True)
    for name in SENTINELS:
        (sentinel / name).write_text(f"# {name}: the grader must never write here\n")
    return sentinel


def _state_of(folder: Path) -> dict[str, tuple]:
    """Every entry's bytes and metadata, without following links."""
    state = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        data = path.read_bytes() if stat.S_ISREG(info.st_mode) else None
        state[str(path.relative_to(folder))] = (info.st_mode, info.st_uid, info.st_size, info.st_mtime_ns, data)
    return state


def _planter_folder(course, root: Path) -> Path:
    folder = root / "planter"
    folder.mkdir(parents=True)
    (folder / "exercise1.py").write_text(PLANTER)
    for spec in course.exercises[1:]:
        (folder / spec.filename).write_text(spec.solution.read_text())
    return folder


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """The grader's temporary folder (where scratch folders go) for this test
    alone, so that a sentinel can sit beside the scratch folders."""
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmpdir))
    monkeypatch.setenv("TMPDIR", str(tmpdir))  # for batch workers
    return tmpdir


# -- class 1: paths the sandbox controls ---------------------------------------------------------------------
def test_what_a_room_plants_in_its_scratch_is_never_followed(course, zygote, private_tmp):
    """Links and a FIFO planted under the next exercises' names (the room's
    checks blinded): every exercise is still graded from its own source,
    nothing outside the scratch folder changes, and clean-up follows no link."""
    sentinel = _plant_sentinels(private_tmp)
    before = _state_of(sentinel)
    submission = from_path(_planter_folder(course, private_tmp.parent), [s.filename for s in course.exercises])
    forks = zygote.forks
    result = runner.grade(course, [submission], list(course.exercises), zygote=zygote).results[0]
    assert _state_of(sentinel) == before
    scores = {e.exercise_id: e.score for e in result.exercises}
    assert scores == {spec.id: spec.points for spec in course.exercises}, \
        [(e.exercise_id, t.message[:160]) for e in result.exercises for t in e.tests if not t.passed]
    assert zygote.forks - forks == 2, "the planted files must be served in the same room (else this tests nothing)"
    assert not [p.name for p in private_tmp.iterdir() if p.name.startswith("torchgrade-")], "a scratch folder was left"


def test_what_a_room_plants_is_never_followed_in_a_batch(course, private_tmp):
    sentinel = _plant_sentinels(private_tmp)
    before = _state_of(sentinel)
    submissions = private_tmp.parent / "submissions"
    _planter_folder(course, submissions)
    honest = submissions / "zz_honest"
    honest.mkdir()
    for spec in course.exercises:
        (honest / spec.filename).write_text(spec.solution.read_text())
    out = private_tmp.parent / "out"
    outcome = controller.run_batch(submissions, out, course, jobs=1, options=GradeOptions(timeout_s=5))
    results = {r.submission: r for r in classbook.collect_results(out)}
    assert _state_of(sentinel) == before
    assert not outcome.failed and not outcome.interrupted
    assert results["planter"].score == results["zz_honest"].score == sum(s.points for s in course.exercises)


def test_a_sandbox_is_told_no_path_of_the_grader_or_the_course(zygote):
    """Its argv, working directory, environment, import path and modules, and
    the zygote's argv and environment (its parent), name neither folder."""
    probe = (
        "import os, sys, types\n"
        "seen = [repr(sys.argv), repr(sys.orig_argv), os.getcwd(), repr(dict(os.environ)), repr(sys.path)]\n"
        "python = (sys.prefix, sys.base_prefix, sys.exec_prefix)\n"
        "for name, module in list(sys.modules.items()):\n"
        "    file = getattr(module, '__file__', None)\n"
        "    if name.startswith('grader') or not (isinstance(file, str) and file.startswith(python)):\n"
        "        seen.append(f'{name}: {file!r}')\n"
        "    if name.startswith('grader'):\n"
        "        seen += [value.__code__.co_filename for value in vars(module).values()\n"
        "                 if isinstance(value, types.FunctionType)]\n"
        "for path in ('/proc/self/cmdline', f'/proc/{os.getppid()}/cmdline', f'/proc/{os.getppid()}/environ',\n"
        "             f'/proc/{os.getppid()}/cwd'):\n"
        "    try:\n"
        "        seen.append(os.readlink(path) if path.endswith('cwd') else open(path, 'rb').read().decode())\n"
        "    except OSError as error:\n"
        "        seen.append(type(error).__name__)\n"
        "print('\\n'.join(seen))\n"
    )
    room = Sandbox.open(zygote, {}, Limits(timeout_s=20), Budget(20))
    try:
        room.load("probe.py", probe.encode(), Budget(20))
        seen, _ = room.take_output()
    finally:
        room.close()
    assert "probe.py" in seen and "grader.sandbox.untrusted.zygote" in seen
    # The interpreter may live under a course folder on a developer's machine
    # (a venv in the checkout): its own paths are not the grader's.
    import sys

    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.realpath(sys.prefix)}:
        seen = seen.replace(prefix, "<python>")
    import grader

    for folder in {str(REPO), str(Path(grader.__file__).resolve().parent)}:
        assert folder not in seen, [line for line in seen.splitlines() if folder in line][:3]


def test_suites_and_solutions_are_read_once_and_a_change_during_a_run_is_loud(course, zygote, tmp_path):
    """A course copy whose solution and suite are rewritten on disk after the
    first submission: the second one is still graded with what was read at
    the start, and the run ends with a GraderError naming both files."""
    copy = tmp_path / "course"
    copy.mkdir()
    for name in ("course.toml", "solutions", "suites", "exercises"):
        source = REPO / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, copy / name)
    copied = load_course(copy)
    spec = copied.exercise("exercise1")
    first = from_path(REPO / "solutions", [spec.filename], name="a_first")
    second = from_path(REPO / "solutions", [spec.filename], name="b_second")
    scores = {}

    def tamper(result) -> None:
        scores[result.submission] = result.score
        if result.submission == "a_first":  # between two submissions, as a sandbox that got out would
            spec.solution.write_text("def model(x, w, b):\n    return 0 * x\n\ndef loss_fn(y_hat, y):\n    return 0\n")
            spec.suite.write_text("def test_everything_passes():\n    pass\n")

    with pytest.raises(GraderError, match="changed on disk") as error:
        runner.grade(copied, [first, second], [spec], zygote=zygote, on_result=tamper)
    assert scores == {"a_first": 10, "b_second": 10}
    assert str(spec.solution) in str(error.value) and str(spec.suite) in str(error.value)


def test_a_batch_refuses_course_files_that_changed_since_it_started(course, tmp_path):
    spec = course.exercise("exercise1")
    fingerprints = CourseFiles.read([spec]).fingerprints()
    fingerprints[str(spec.solution)] = "0" * 64
    with pytest.raises(GraderError, match=str(spec.solution)):
        CourseFiles.read([spec], expected=fingerprints)


def test_pytest_imports_a_suite_from_the_snapshot_with_its_asserts_rewritten(tmp_path):
    suite = tmp_path / "test_snapshot_probe.py"
    suite.write_text("def test_it():\n    value = 41\n    assert value == 42\n")
    spec = type("Spec", (), {"suite": suite, "solution": tmp_path / "none.py"})()
    snapshot = CourseFiles.read([spec])
    suite.write_text("def test_it():\n    pass\n")  # what is on disk now is not what runs
    import pytest as pytest_module

    class Outcome:
        reports: list = []

        def pytest_runtest_logreport(self, report):
            if report.when == "call":
                self.reports.append(report)

    outcome = Outcome()
    with snapshot.serving_suites([suite]) as served:
        pytest_module.main(["-q", "-p", "no:cacheprovider", "--import-mode=importlib", "--rootdir", str(tmp_path),
                            str(suite)], plugins=[outcome, served])
    assert [r.outcome for r in outcome.reports] == ["failed"]
    assert "assert 41 == 42" in str(outcome.reports[0].longrepr)


# -- class 2: waits without a deadline -----------------------------------------------------------------------
CHANNEL_ABUSE = ("closes_channel_then_sleeps", "partial_header_then_sleeps", "huge_header_then_trickle",
                 "oversized_header")


def test_a_batch_worker_outlives_every_abuse_of_its_channel_and_grades_what_follows(course, tmp_path):
    """One worker (jobs=1) meets each abuse in turn: the batch ends on its own
    and every later submission gets its row, honest ones full marks."""
    submissions, out = tmp_path / "submissions", tmp_path / "out"
    exercise2 = course.exercise("exercise2").solution.read_text()
    for number, name in enumerate(CHANNEL_ABUSE):
        folder = submissions / f"{number}_{name}"
        folder.mkdir(parents=True)
        shutil.copy(HOSTILE / f"{name}.py", folder / "exercise1.py")
        (folder / "exercise2.py").write_text(exercise2)
        honest = submissions / f"{number}_zz_honest"
        honest.mkdir()
        for spec in course.exercises[:2]:
            (honest / spec.filename).write_text(spec.solution.read_text())
    started = time.monotonic()
    outcome = controller.run_batch(submissions, out, course, exercise_ids=["exercise1", "exercise2"], jobs=1, options=GradeOptions(timeout_s=2))
    assert time.monotonic() - started < 120
    results = {r.submission: r for r in classbook.collect_results(out)}
    assert not outcome.failed and not outcome.interrupted and not outcome.worker_errors
    assert len(results) == 2 * len(CHANNEL_ABUSE)
    for number, name in enumerate(CHANNEL_ABUSE):
        hostile = results[f"{number}_{name}"]
        assert hostile.exercises[0].score == 0 and hostile.exercises[1].score == 10, name
        assert results[f"{number}_zz_honest"].score == 20, name


def _pair() -> tuple[Channel, socket.socket]:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    return Channel(ours), theirs


def test_a_frame_round_trips_with_multiprocessing_connections():
    channel, theirs = _pair()
    connection = Connection(theirs.detach())
    connection.send_bytes(b"hello" * 1000)
    assert channel.receive(1 << 20, time.monotonic() + 5) == b"hello" * 1000
    channel.send([b"a", b"bc" * 100000], time.monotonic() + 5)
    assert connection.recv_bytes() == b"a" and connection.recv_bytes() == b"bc" * 100000


@pytest.mark.parametrize("sent, received, expected", [
    (b"\x00\x00", 2, None),  # half a header
    (struct.pack("!i", 1000) + b"x" * 10, 14, 1000),  # a frame cut short
])
def test_a_read_ends_at_its_deadline_whatever_arrived(sent, received, expected):
    channel, theirs = _pair()
    theirs.sendall(sent)
    started = time.monotonic()
    with pytest.raises(ChannelTimeout) as timeout:
        channel.receive(1 << 20, started + 0.3)
    assert 0.25 < time.monotonic() - started < 2
    assert (timeout.value.received, timeout.value.expected) == (received, expected)


def test_a_trickle_does_not_stretch_the_deadline():
    channel, theirs = _pair()
    theirs.sendall(struct.pack("!i", 1 << 20))
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            theirs.send(b"x")
            time.sleep(0.01)

    threading.Thread(target=trickle, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(ChannelTimeout):
            channel.receive(1 << 21, started + 0.3)
    finally:
        stop.set()
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("header", [struct.pack("!i", 65), struct.pack("!i", -5),
                                    struct.pack("!i", -1) + struct.pack("!Q", 1 << 40)])
def test_a_frame_longer_than_allowed_is_refused_by_its_header(header):
    channel, theirs = _pair()
    theirs.sendall(header)
    with pytest.raises(FrameTooLarge):
        channel.receive(64, time.monotonic() + 5)


def test_a_closed_channel_says_how_much_of_a_frame_came():
    channel, theirs = _pair()
    theirs.sendall(struct.pack("!i", 100) + b"abc")
    theirs.close()
    with pytest.raises(ChannelClosed) as closed:
        channel.receive(1 << 20, time.monotonic() + 5)
    assert closed.value.received == 7


def test_a_write_to_a_sandbox_that_stops_reading_ends_at_its_deadline():
    channel, theirs = _pair()
    started = time.monotonic()
    with pytest.raises(ChannelTimeout):
        channel.send([b"x" * (32 << 20)], started + 0.3)
    assert time.monotonic() - started < 2
    theirs.close()


def test_a_zygote_lost_mid_session_scores_no_one_it_did_not_grade(course, caplog):
    """The sandboxes' zygote dies between two submissions (killed, or its worker shutting down):
    what finished stands; the rest is not reported (no test of theirs becomes a zero "grader
    error"), the session stops at once, and the caller hears ZygoteLost to grade them again."""
    from grader.sandbox.client import Zygote, ZygoteLost

    spec = course.exercise("exercise1")
    submissions = [from_path(REPO / "solutions", [spec.filename], name=f"s{n}") for n in range(3)]
    zygote = Zygote.start()
    reported = []

    def kill_the_zygote_after_the_first(result) -> None:
        reported.append((result.submission, result.score))
        zygote.process.kill()
        zygote.process.wait()

    try:
        with pytest.raises(ZygoteLost, match="zygote"):
            runner.grade(course, submissions, [spec], zygote=zygote, on_result=kill_the_zygote_after_the_first)
    finally:
        zygote.close()
    assert reported == [("s0", 10)]
    assert zygote.lost and "grader error in a hidden test" not in caplog.text
