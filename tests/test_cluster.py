"""`grade batch --scheduler` on a Dask LocalCluster of two worker processes,
shared by every test here (started once: a worker costs an interpreter, torch
and a zygote). The same class graded by local workers and on the cluster
gives the same gradebook and the same results.json files; a worker killed
mid-batch changes no result; --resume on a cluster grades only what changed.

The class: a representative subset of the hostile corpus (HOSTILE_SUBSET) as exercise1, the reference solutions, a zip,
a lone .py, a folder with a symbolic link and the untouched stubs, graded on
every exercise (the others are "not submitted", which costs no sandbox).
"""
from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
import shutil
import signal
import threading
import time
import zipfile
from collections import deque
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.slow  # a Dask LocalCluster per test: CI runs these (pytest -m slow)
import dask  # noqa: E402

from grader.commands.batch import cluster, controller  # noqa: E402
from grader.record.classbook import submission_folder  # noqa: E402
from grader.commands.batch.entries import Entry  # noqa: E402
from grader.commands.batch.events import Graded, Planned, Retry  # noqa: E402
from grader.commands.batch.payload import pack_entry, unpack_entry  # noqa: E402
from grader.options import GradeOptions  # noqa: E402
from grader.words import counted  # noqa: E402

from corpus import HOSTILE, expectations  # noqa: E402
from test_inputs import deep_notebook  # noqa: E402

# One per kind of trouble: an exit, a crash, the time and memory limits, a forged reply, a
# forged header, an attack on the grader's files, undecodable source (the whole corpus, through
# local batch workers, is tests/test_hostile_batch.py's: too slow to run twice here).
HOSTILE_SUBSET = ["exit_at_import", "segfault", "loop_forever", "memory_bomb", "tensor_subclass", "oversized_header",
                  "reads_solutions", "not_utf8", "escape_sequences_in_message"]
OPTIONS = GradeOptions(timeout_s=2, memory_mb=512)
ESCAPE_NAME, ESCAPED_NAME = "forged\n\x1bname", "forged\\n\\x1bname"
TIMING = {"execution_time", "elapsed_s"}
SCRATCH = re.compile(r"/torchgrade-[A-Za-z0-9_]{8}/")


@pytest.fixture(scope="module")
def dask_cluster():
    """Two worker processes, one thread each; a task may lose MAX_ATTEMPTS - 1 workers before KilledWorker."""
    with dask.config.set({"distributed.scheduler.allowed-failures": controller.MAX_ATTEMPTS - 1}):
        local = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0")
    client = distributed.Client(local)
    yield local, client
    client.close()
    local.close()


@pytest.fixture(scope="module")
def class_folder(course, tmp_path_factory):
    root = tmp_path_factory.mktemp("cluster-class")
    subs = root / "submissions"
    subs.mkdir()
    for name in HOSTILE_SUBSET:
        (subs / name).mkdir()
        shutil.copy(HOSTILE / f"{name}.py", subs / name / "exercise1.py")
    (subs / "solutions").mkdir()
    (subs / "stubs").mkdir()
    for spec in course.exercises:
        shutil.copy(spec.solution, subs / "solutions" / spec.filename)
        shutil.copy(spec.stub, subs / "stubs" / spec.filename)
    with zipfile.ZipFile(subs / "zipped.zip", "w") as archive:
        archive.write(course.exercise("exercise1").solution, "zipped/exercise1.py")
    shutil.copy(course.exercise("exercise1").solution, subs / "lone.py")
    (subs / "linked").mkdir()
    (subs / "linked" / "exercise1.py").symlink_to(course.exercise("exercise1").solution)
    (subs / "linked" / "notes.txt").write_text("hello")
    # What broke a cluster batch or a class's files: a notebook nested 600 deep (the batch stopped, exit 3),
    # an entry named like OUT's summary, a name with a newline and ESC.
    (subs / "deep.ipynb").write_bytes(deep_notebook())
    for name in ("index.html", ESCAPE_NAME):
        (subs / name).mkdir()
        shutil.copy(course.exercise("exercise1").solution, subs / name / "exercise1.py")
    return root, subs


@pytest.fixture(scope="module")
def both_runs(course, class_folder, dask_cluster):
    root, subs = class_folder
    local, _ = dask_cluster
    events: list[tuple[object, int]] = []

    def progress(event) -> None:
        events.append((event, dask.config.get("distributed.admin.low-level-log-length")))

    # One grading seed for both OUTs (a new class record otherwise draws a secret one of its own).
    same_seed = dataclasses.replace(OPTIONS, seed=20261207)
    on_cluster = controller.run_batch(subs, root / "cluster", course, options=same_seed,
                                      scheduler=local.scheduler_address, on_progress=progress)
    on_machine = controller.run_batch(subs, root / "local", course, options=same_seed, jobs=2)
    return on_cluster, on_machine, events


def _without_timing(data):
    """A results.json without what differs between any two runs, local ones too: times, and the
    random name of a sandbox's scratch folder (quoted in a traceback)."""
    if isinstance(data, dict):
        return {k: _without_timing(v) for k, v in data.items() if k not in TIMING}
    if isinstance(data, list):
        return [_without_timing(v) for v in data]
    if isinstance(data, str):
        return SCRATCH.sub("<scratch>", data)
    return data


def _gradebook(out: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO((out / "gradebook.csv").read_text())))


def test_the_cluster_gives_the_local_batch_s_gradebook_and_results(both_runs, class_folder, course):
    on_cluster, on_machine, events = both_runs
    root, subs = class_folder
    names = sorted(on_machine.graded)
    assert sorted(on_cluster.graded) == names and len(names) == len(list(subs.iterdir()))
    assert not on_cluster.failed and not on_machine.failed
    assert _gradebook(root / "cluster") == _gradebook(root / "local")
    for name in names:
        ours, theirs = (json.loads((submission_folder(root / out, name) / "results.json").read_text()) for out in ("cluster", "local"))
        assert _without_timing(ours) == _without_timing(theirs), name
    rows = {row[0]: row for row in _gradebook(root / "cluster")[2:]}
    for name in HOSTILE_SUBSET:  # the points each hostile case promises, on the cluster too
        assert float(rows[name][2]) == float(expectations(HOSTILE / f"{name}.py")["points"]), name
    total = sum(spec.points for spec in course.exercises)
    assert rows["solutions"][-2] == f"{total:g}" and rows["stubs"][-2] == "0" and rows["zipped"][-2] == "10"
    assert rows["lone"][1] == "refused"
    assert rows["deep"][1] == "refused" and "nested more than 100 levels" in rows["deep"][-1]
    assert rows["index.html"][2] == "10" and (root / "cluster" / "index.html").is_file()
    assert rows[ESCAPED_NAME][1] == "refused" and "rename it" in rows[ESCAPED_NAME][-1]
    assert isinstance(events[0][0], Planned) and events[0][0].jobs == 2
    assert sorted(e.submission for e, _ in events if isinstance(e, Graded)) == names


def test_the_client_keeps_no_long_log_of_the_chunks_it_sent(both_runs):
    """Dask logs each stream's last messages (1,000 by default), and every message the client sends
    is a chunk with its submissions' bytes: while a batch runs, the log is short; after, as it was."""
    _, _, events = both_runs
    assert {length for _, length in events} == {cluster.CLIENT_CONFIG["distributed.admin.low-level-log-length"]}
    assert dask.config.get("distributed.admin.low-level-log-length") == 1000


def test_a_worker_keeps_its_reference_answers_from_one_chunk_to_the_next(course, tmp_path, monkeypatch):
    """The reference's answers are worked out once per worker, not once per chunk (each chunk's session
    would otherwise recompute them all: the cluster's throughput depended on it)."""
    from grader.commands.batch import cluster_worker
    from grader.commands.batch.payload import pack_course

    bundle, digest = pack_course(course, course.exercises)
    plugin = cluster_worker.CoursePlugin(bundle, digest)
    monkeypatch.setattr(cluster_worker, "get_worker",
                        lambda: type("Worker", (), {"plugins": {cluster_worker.plugin_name(digest): plugin}})())
    (tmp_path / "alice").mkdir()
    shutil.copy(course.exercise("exercise1").solution, tmp_path / "alice" / "exercise1.py")
    job = json.dumps({"exercises": ["exercise1"], "options": {**OPTIONS.__dict__, "seed": course.seed}})
    plugin.setup(None)
    try:
        chunk = [(Entry("alice", tmp_path / "alice").job(), "alice", pack_entry(tmp_path / "alice"))]
        first = cluster_worker.grade_chunk(digest, job, chunk)
        references = plugin.references
        cached = {id(s): dict(s.cache) for s in references._references.values()}
        second = cluster_worker.grade_chunk(digest, job, chunk)
    finally:
        plugin.teardown(None)
    assert json.loads(first[0])["score"] == json.loads(second[0])["score"] == 10
    assert plugin.references is references and cached and all(cached.values())
    # The second chunk asked the same questions: every answer came from the first chunk's cache.
    assert {id(s): dict(s.cache) for s in references._references.values()} == cached


def test_resume_on_a_cluster_grades_only_what_changed(course, class_folder, both_runs, dask_cluster):
    root, subs = class_folder
    local, _ = dask_cluster
    out = root / "cluster"
    mtimes = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/results.json")}
    with (subs / "stubs" / "exercise1.py").open("a") as edited:
        edited.write("\n# edited\n")
    outcome = controller.run_batch(subs, out, course, options=OPTIONS, scheduler=local.scheduler_address,
                                   resume=True)
    assert outcome.graded == ["stubs"] and len(outcome.skipped) == len(mtimes) - 1
    after = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("submissions/*/results.json")}
    assert {name for name in mtimes if after[name] != mtimes[name]} == {"stubs"}


def test_ctrl_c_on_a_cluster_keeps_what_finished_and_resume_grades_the_rest(course, tmp_path, dask_cluster):
    local, client = dask_cluster
    subs = tmp_path / "submissions"
    subs.mkdir()
    for number in range(12):
        (subs / f"s{number:02d}").mkdir()
        shutil.copy(course.exercise("exercise1").solution, subs / f"s{number:02d}" / "exercise1.py")
    graded: list[str] = []

    def interrupt_after_two(event: dict) -> None:
        if isinstance(event, Graded):
            graded.append(event.submission)
            if len(graded) == 2:
                raise KeyboardInterrupt

    out = tmp_path / "out"
    outcome = controller.run_batch(subs, out, course, exercise_ids=["exercise1"], options=OPTIONS,
                                   scheduler=local.scheduler_address, on_progress=interrupt_after_two)
    assert outcome.interrupted and outcome.exit_status == 130
    finished = sorted(outcome.graded)
    assert 2 <= len(finished) < 12 and [row[0] for row in _gradebook(out)[2:]] == finished
    assert f"Not graded yet: {counted(12 - len(finished), 'submission')}" in (out / "index.html").read_text(encoding="utf-8")
    deadline = time.monotonic() + 30  # cancelled: the scheduler forgets the batch's chunks
    while [k for keys in client.processing().values() for k in keys if str(k).startswith("torchgrade-chunk")]:
        assert time.monotonic() < deadline, "the interrupted batch left chunks on the cluster"
        time.sleep(0.1)

    resumed = controller.run_batch(subs, out, course, exercise_ids=["exercise1"], options=OPTIONS,
                                   scheduler=local.scheduler_address, resume=True)
    assert sorted(resumed.skipped) == finished and sorted(resumed.graded + resumed.skipped) == [
        f"s{n:02d}" for n in range(12)]
    assert {row[0]: row[2] for row in _gradebook(out)[2:]} == {f"s{n:02d}": "10" for n in range(12)}


def test_a_worker_killed_mid_batch_changes_no_result(course, tmp_path, dask_cluster):
    local, client = dask_cluster
    subs = tmp_path / "submissions"
    subs.mkdir()
    solution, stub = course.exercise("exercise1").solution, course.exercise("exercise1").stub
    for number in range(8):
        (subs / f"s{number}").mkdir()
        shutil.copy(solution if number % 2 == 0 else stub, subs / f"s{number}" / "exercise1.py")
    killed: list[int] = []

    def kill_one_worker_while_it_grades() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not killed:
            busy = [w for w, keys in client.processing().items()
                    if any(str(k).startswith("torchgrade-chunk") for k in keys)]
            if busy:
                time.sleep(0.5)  # well inside the chunk: its worker is grading, not just holding it
                pids = client.run(os.getpid, workers=busy[:1])
                for pid in pids.values():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_one_worker_while_it_grades, daemon=True)
    killer.start()
    outcome = controller.run_batch(subs, tmp_path / "out", course, exercise_ids=["exercise1"], options=OPTIONS,
                                   scheduler=local.scheduler_address)
    killer.join()
    assert killed, "no worker was killed: the test proved nothing"
    assert not outcome.failed and sorted(outcome.graded) == sorted(p.name for p in subs.iterdir())
    rows = {row[0]: row[2] for row in _gradebook(tmp_path / "out")[2:]}
    assert rows == {f"s{n}": ("10" if n % 2 == 0 else "0") for n in range(8)}
    client.wait_for_workers(2, timeout=60)  # the nanny brought it back, for whoever comes next


def test_chunks_are_large_enough_to_pay_off_and_shrink_as_the_class_runs_out():
    assert cluster.chunk_size(10_000, 2) == cluster.MAX_CHUNK
    assert cluster.chunk_size(40, 2) == 10  # a quarter of what is left, with two workers
    assert cluster.chunk_size(3, 2) == 1 and cluster.chunk_size(1, 8) == 1  # the tail: one at a time


def test_an_entry_travels_as_bytes_with_its_real_sizes_and_no_link_read(tmp_path):
    entry = tmp_path / "alice"
    entry.mkdir()
    (entry / "exercise1.py").write_text("x = 1\n")
    (entry / "big.ipynb").write_bytes(b"{" + b" " * (11 << 20))
    (entry / "data.bin").write_bytes(b"\0" * 1000)
    (entry / "secret.py").symlink_to("/etc/passwd")
    (entry / "sub").mkdir()
    data = pack_entry(entry)
    assert len(data) < (10 << 20) + 20_000  # the notebook's cap plus one byte (and the tar's headers), not all of it
    target = tmp_path / "unpacked"
    target.mkdir()
    copy = unpack_entry(data, target, "alice")
    assert (copy / "exercise1.py").read_text() == "x = 1\n"
    assert (copy / "big.ipynb").stat().st_size == (entry / "big.ipynb").stat().st_size
    assert (copy / "data.bin").stat().st_size == 1000
    assert (copy / "secret.py").is_symlink() and not (copy / "secret.py").exists()
    assert (copy / "sub").is_dir()


def test_a_bad_scheduler_is_a_usage_error(course, tmp_path):
    from grader.errors import UserError

    (tmp_path / "subs").mkdir()
    with pytest.raises(UserError, match="local:N"):
        cluster.parse_scheduler("localhost")
    with pytest.raises(UserError, match="number of workers"):
        cluster.parse_scheduler("local:zero")


class _FakeFuture:
    def __init__(self, outcome):
        self.outcome = outcome
        self.status = "error" if isinstance(outcome, BaseException) else "finished"

    def exception(self):
        return self.outcome

    def result(self):
        return self.outcome

    def release(self):
        pass


class _FakeAsCompleted:
    def __init__(self):
        self.queue = []

    def add(self, future):
        self.queue.append(future)

    def __iter__(self):
        while self.queue:
            yield self.queue.pop(0)


def graded_line(name: str) -> str:
    """A worker's ``graded`` line, as the fakes below send it (the sink is a fake too: no result in it)."""
    return json.dumps({"event": "graded", "submission": name, "score": 0, "max_score": 0, "verdicts": [],
                       "status": "graded", "result": {}})


class _FakeSink:
    def __init__(self):
        self.stored, self.failures, self.events = set(), [], []

    def graded(self, event):
        self.stored.add(event.submission)

    def failed(self, name, why):
        self.failures.append(name)

    def report(self, event):
        self.events.append(event)


def test_a_chunk_that_kills_workers_is_split_and_only_its_culprit_gets_a_failed_row(monkeypatch, tmp_path):
    """No processes: Dask's side is played by fakes. A chunk ending in KilledWorker is sent
    again one submission at a time; the one that still kills its worker gets a failed row
    (bounded: never retried again), every other is graded once."""
    sent: list[list[str]] = []

    def submit(runner, chunk, packed):
        names = [e.name for e in chunk]
        sent.append(names)
        if "killer" in names:
            future = _FakeFuture(distributed.KilledWorker("task", None, 1))
        else:
            future = _FakeFuture([graded_line(n) for n in names])
        runner.in_flight[future] = chunk
        return future

    monkeypatch.setattr(cluster, "as_completed", _FakeAsCompleted)
    monkeypatch.setattr(cluster.ClusterRunner, "_submit", submit)
    runner = cluster.ClusterRunner.__new__(cluster.ClusterRunner)
    runner.sink, runner.max_attempts, runner.workers, runner.in_flight = _FakeSink(), 2, 1, {}
    runner.client = object()
    names = ["a", "b", "killer", "c", "d", "e"]
    runner.run([Entry(n, tmp_path / n) for n in names])
    assert runner.sink.failures == ["killer"]
    assert runner.sink.stored == set(names) - {"killer"}
    assert sent[0] == ["a", "b", "killer"] and ["killer"] in sent and sent.count(["killer"]) == 1  # tried alone once, then a row
    assert any(isinstance(e, Retry) for e in runner.sink.events)


def test_a_task_that_raises_is_split_and_only_its_culprit_gets_a_failed_row(monkeypatch, tmp_path):
    """A task's error (not a lost worker) once ended the whole batch ("a Dask worker failed: ..."):
    now its chunk is sent again one by one, the entry that raises alone twice gets a failed row
    naming the error's kind, and every other is graded."""
    sent: list[list[str]] = []

    def submit(runner, chunk, packed):
        names = [e.name for e in chunk]
        sent.append(names)
        if "raiser" in names:
            future = _FakeFuture(RecursionError("maximum recursion depth exceeded " + "x" * 500_000))
        else:
            future = _FakeFuture([graded_line(n) for n in names])
        runner.in_flight[future] = chunk
        return future

    monkeypatch.setattr(cluster, "as_completed", _FakeAsCompleted)
    monkeypatch.setattr(cluster.ClusterRunner, "_submit", submit)
    runner = cluster.ClusterRunner.__new__(cluster.ClusterRunner)
    runner.sink, runner.max_attempts, runner.workers, runner.in_flight = _FakeSink(), 2, 1, {}
    runner.client = object()
    names = ["a", "b", "raiser", "c", "d", "e"]
    runner.run([Entry(n, tmp_path / n) for n in names])
    assert runner.sink.failures == ["raiser"]
    assert runner.sink.stored == set(names) - {"raiser"}
    assert sent.count(["raiser"]) == 2 and all(chunk == ["raiser"] for chunk in sent[1:] if "raiser" in chunk)
    reasons = {e.reason for e in runner.sink.events if isinstance(e, Retry)}
    assert reasons == {"raised RecursionError"}  # its kind, never its 500 KB message


def test_a_chunk_holds_at_most_its_byte_budget_unless_one_submission_alone_is_more(monkeypatch, tmp_path):
    monkeypatch.setattr(cluster, "CHUNK_BYTES", 20_000)  # a few small entries, headers included
    sizes = {"a": 3000, "b": 3000, "c": 3000, "big": 40_000, "d": 100, "e": 100}
    entries = []
    for name, size in sizes.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "exercise1.py").write_bytes(b"#" * size)
        entries.append(Entry(name, tmp_path / name))
    remaining = deque(entries)
    chunks = []
    while remaining:
        chunk, packed = cluster.ClusterRunner._fill(remaining, 16)
        assert packed == [pack_entry(e.path) for e in chunk]
        chunks.append(([e.name for e in chunk], sum(map(len, packed))))
    assert [names for names, _ in chunks] == [["a", "b", "c"], ["big"], ["d", "e"]]
    assert all(total <= 20_000 for names, total in chunks if names != ["big"])
    assert cluster.ClusterRunner._fill(deque(entries), 2)[0] == entries[:2]  # and at most `size` entries


def test_ctrl_c_while_the_cluster_starts_is_an_interrupted_batch_not_a_crash(course, tmp_path, monkeypatch):
    """A cluster takes seconds to start (workers, zygotes, the course shipped): Ctrl-C then stops the
    batch as it would mid-grading, and the runner is closed, with no second Ctrl-C cutting it short."""
    closed = []

    class StartsSlowly:
        def start(self):
            raise KeyboardInterrupt

        def run(self, pending):
            raise AssertionError("nothing runs after an interrupted start")

        def stop(self):
            pass

        def close(self):
            closed.append(True)

    monkeypatch.setattr(controller, "cluster_runner", lambda *args: StartsSlowly())
    subs = tmp_path / "subs"
    for name in ("a", "b"):
        (subs / name).mkdir(parents=True)
        shutil.copy(course.exercise("exercise1").solution, subs / name / "exercise1.py")
    outcome = controller.run_batch(subs, tmp_path / "out", course, scheduler="local:2")
    assert outcome.interrupted and outcome.exit_status == 130 and closed == [True] and not outcome.graded
    assert "Not graded yet: 2 submissions" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
