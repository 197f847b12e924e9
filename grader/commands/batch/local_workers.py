"""``grade batch``'s local workers: fresh interpreters, each grading a share, kept busy and survived.

Each worker (``worker``, ``python -I``) gets its share as JSON on stdin and
answers with one JSON line per event; a worker that dies becomes retries of
its unfinished entries (the one it was on alone) and, after ``MAX_ATTEMPTS``,
a failed row. Results go to the ``ResultSink``; nothing here touches the
class record.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grader
from grader.commands.batch.entries import Entry
from grader.commands.batch.events import (Graded, Grading, MalformedEvent, ProgressEvent, Reading, Retry,
                                          WorkerError, read_worker_line)
from grader.commands.batch.sink import MAX_ATTEMPTS, BatchError, ResultSink
from grader.commands.batch.worker import BOOT
from grader.course.catalogue import Course, ExerciseSpec

STOP_GRACE_S = 5.0  # after SIGTERM, how long workers get to close their zygotes before SIGKILL

T = TypeVar("T")

# The folder holding the grader package, put back on a worker's path (it runs with -I).
_GRADER_PARENT = str(Path(grader.__file__).resolve().parent.parent)


@dataclass
class _Worker:
    process: subprocess.Popen[str]
    names: list[str]  # in the order it grades them
    log: Path
    done: set[str] = field(default_factory=set)
    error: str | None = None
    reading: str | None = None  # the entry it is reading, until it says it is grading

    def suspect(self, unfinished: Sequence[str]) -> str:
        """Which unfinished entry to blame if it dies: the one it was reading,
        else the first not graded (it grades in order)."""
        return self.reading if self.reading is not None and self.reading in unfinished else unfinished[0]


def worker_command() -> list[str]:
    """How a worker starts: this interpreter, isolated, running the worker's boot line."""
    return [sys.executable, "-I", "-c", BOOT, _GRADER_PARENT]


def round_robin(items: Sequence[T], shares: int) -> list[list[T]]:
    """Deal ``items`` into at most ``shares`` non-empty lists, in turn."""
    return [list(items[k::shares]) for k in range(min(shares, len(items)))]



def local_runner(course: Course, specs: Sequence[ExerciseSpec], out: Path, ids: list[str], subset: bool,
                 not_written: list[str], options: dict[str, Any], command: Sequence[str], jobs: int,
                 report: Callable[[ProgressEvent], None], sink: ResultSink) -> LocalWorkers:
    from grader.engine.snapshot import CourseFiles  # noqa: PLC0415 - torch-free

    job = {"course": str(course.root), "out": str(out.resolve()), "exercises": ids, "write_files": not subset,
           "not_written": not_written,  # an override in force: the controller writes those from the record
           # What the workers will run, fingerprinted before any of them (or any sandbox) starts.
           "course_files": CourseFiles.read(specs).fingerprints(), "options": options}
    return LocalWorkers(job, command, jobs, report, sink)



class LocalWorkers:
    """Keeps up to ``jobs`` workers busy with shares; a dead worker's unfinished
    submissions go to new workers (the one it was grading alone, as the
    likely cause), and after ``MAX_ATTEMPTS`` become failed rows."""

    def __init__(self, job: dict[str, Any], command: Sequence[str], jobs: int, report: Callable[[ProgressEvent], None],
                 sink: ResultSink) -> None:
        self.job, self.command, self.jobs, self.report, self.sink = job, list(command), jobs, report, sink
        self.events: queue.Queue[tuple[_Worker, str | None]] = queue.Queue()
        self.running: list[_Worker] = []
        self.attempts: Counter[str] = Counter()
        self.entries: dict[str, dict[str, Any]] = {}
        self.logs: list[Path] = []

    def start(self) -> int:
        return self.jobs  # workers start as shares are dealt

    def run(self, pending: Sequence[Entry]) -> None:
        self.entries = {e.name: e.job() for e in pending}
        waiting = deque([e.name for e in share] for share in round_robin(pending, self.jobs))
        while waiting or self.running:
            while waiting and len(self.running) < self.jobs:
                self._start(waiting.popleft())
            try:
                worker, line = self.events.get(timeout=1.0)
            except queue.Empty:
                continue
            if line is None:
                waiting.extend(self._finished(worker))
            else:
                self._handle(worker, line)

    def _start(self, share: list[str]) -> None:
        log = Path(tempfile.mkstemp(prefix="torchgrade-batch-worker-", suffix=".log")[1])
        self.logs.append(log)
        with log.open("wb") as stderr:
            # An argument list, no shell: this interpreter (-I) running the worker's boot line (worker_command),
            # or the command a test puts in its place; never anything a submission chose.
            process = subprocess.Popen(  # noqa: S603
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                cwd=self.job["course"], text=True, encoding="utf-8", errors="replace",
                start_new_session=True)  # Ctrl-C reaches the parent, which stops them
        worker = _Worker(process=process, names=list(share), log=log)
        self.running.append(worker)
        threading.Thread(target=self._read, args=(worker,), daemon=True).start()
        if process.stdin is None:
            raise RuntimeError("a worker started with stdin=PIPE has no stdin")
        try:
            process.stdin.write(json.dumps({**self.job, "entries": [self.entries[name] for name in share]}))
            process.stdin.close()
        except OSError:
            pass  # it died at once: its end of stdout says so

    def _read(self, worker: _Worker) -> None:
        if worker.process.stdout is None:
            raise RuntimeError("a worker started with stdout=PIPE has no stdout")
        for line in worker.process.stdout:
            self.events.put((worker, line))
        self.events.put((worker, None))

    def _handle(self, worker: _Worker, line: str) -> None:
        try:
            event = read_worker_line(line)
        except MalformedEvent as error:  # workers keep their stdout for their events: say what else came
            self.sink.outcome.worker_errors.append(f"a worker wrote a line that is not one of its events: {error}")
            return
        if isinstance(event, Graded) and event.submission in worker.names:
            self.sink.graded(event)
            worker.done.add(event.submission)
        elif isinstance(event, Reading):
            worker.reading = event.submission
        elif isinstance(event, Grading):
            worker.reading = None
        elif isinstance(event, WorkerError):
            worker.error = event.message

    def _finished(self, worker: _Worker) -> list[list[str]]:
        code = worker.process.wait()
        self.running.remove(worker)
        if worker.error is not None:
            raise BatchError(worker.error)
        unfinished = [n for n in worker.names if n not in worker.done]
        if not unfinished:
            return []
        why = _exit_reason(code)
        self.sink.outcome.worker_errors.append(f"a worker {why}:\n{_tail(worker.log)}".rstrip())
        # Only the entry it was reading or grading is charged, and it goes again alone: the others never
        # started, so they go again together, never beside it and never charged for it.
        suspect = worker.suspect(unfinished)
        together = [name for name in unfinished if name != suspect]
        self.attempts[suspect] += 1
        alone: list[str] = []
        if self.attempts[suspect] >= MAX_ATTEMPTS:
            self.sink.failed(suspect, why)
        else:
            alone = [suspect]
        retries = [share for share in (alone, together) if share]
        if retries:
            self.report(Retry(tuple(n for share in retries for n in share), why))
        return retries

    def stop(self) -> None:
        """SIGTERM every worker (each closes its zygote, whose sandboxes die
        with it), then SIGKILL whatever is left after a grace period."""
        for worker in self.running:
            _signal_group(worker.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.running:
            try:
                worker.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(worker.process, signal.SIGKILL)
                worker.process.wait()
        self.running.clear()

    def close(self) -> None:
        """Remove the workers' logs."""
        for log in self.logs:
            log.unlink(missing_ok=True)



def _signal_group(process: subprocess.Popen[str], number: int) -> None:
    try:
        os.killpg(process.pid, number)  # the worker leads its own session
    except (ProcessLookupError, PermissionError):
        pass


def _exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with status {code}"


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-limit:]
    except OSError:
        return ""
