"""``grade batch --scheduler``: the client side of grading a class on a Dask cluster.

The controller plans, keeps the class record and rebuilds OUT exactly as for
local workers; this module only replaces the local worker processes. It
ships the course to every worker once (a ``CoursePlugin`` holding the
course's bytes and fingerprint: each worker unpacks, verifies and loads it,
its zygote started first), then sends the pending submissions in chunks,
each entry packed as bytes (``payload``: no shared file system), and stores
results as chunks finish (``as_completed``). What comes back is the grader's
own result record as JSON text, made by the trusted grader code on the
worker; no sandbox's reply ever crosses (rooms answer the worker's runner).
The scheduler only schedules: it never runs student code.

Faults: a worker lost mid-chunk makes Dask run the chunk elsewhere; a chunk
that ends in ``KilledWorker`` (it was running on ``allowed-failures`` + 1
workers that died) or in an error the task raised is split and its
submissions sent again one by one; a single submission that ends in
``KilledWorker``, or raises twice, gets the local batch's "the grader
failed" row: a task's failure is never the end of the batch. The sink stores each submission once, whichever
task finishes it. Torch-free.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import tempfile
import uuid
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import dask
from distributed import Client, Future, KilledWorker, LocalCluster, as_completed

from grader.commands.batch.cluster_worker import CoursePlugin, grade_chunk, plugin_name
from grader.commands.batch.entries import Entry
from grader.commands.batch.events import Graded, MalformedEvent, Retry, WorkerError, read_worker_line
from grader.commands.batch.payload import pack_course, pack_entry
from grader.course.catalogue import Course, ExerciseSpec
from grader.errors import GraderFailure, UserError

if TYPE_CHECKING:
    from grader.commands.batch.sink import ResultSink

MAX_CHUNK = 16  # submissions per task, at most (see chunk_size)
CHUNK_BYTES = 16 << 20  # a task's submissions' bytes, at most, unless one alone is more (see ClusterRunner._fill)
TAIL_SHARE = 2  # a chunk is at most 1 / (TAIL_SHARE x workers) of what is left (see chunk_size)
IN_FLIGHT_PER_WORKER = 2  # tasks sent ahead per worker thread: one running, one waiting
# Dask logs the last messages of every stream for debugging (1,000 each by default): the client's to the
# scheduler and the scheduler's to each worker, where every message is a chunk holding its submissions'
# bytes. Kept that long, the client grew by ~45 KB per chunk sent, for the first 1,000 chunks; kept short,
# its memory is flat in the class size. Set while the batch runs, in this process (with local:N, the
# scheduler's too); a cluster's own scheduler is configured by whoever starts it (docs/operators/cluster.md).
CLIENT_CONFIG = {"distributed.admin.low-level-log-length": 10}
# A LocalCluster's settings. Dask's statistical profiler samples every thread's stack every 10 ms, in the
# worker's own process, beside the grading thread (the GIL): it costs a grading worker more than it tells.
# The scheduler's history of computations holds each one's task groups and code (100 by default).
LOCAL_CLUSTER_CONFIG = {"distributed.worker.profile.enabled": False,
                        "distributed.diagnostics.computations.max-history": 10}
LOST = "was lost (Dask's KilledWorker)"  # words a progress line and a failed row: "a worker was lost ..."


class ClusterError(GraderFailure):
    """The cluster could not grade at all (unreachable, a course it could not use, a broken suite)."""


def chunk_size(remaining: int, workers: int) -> int:
    """How many of the ``remaining`` submissions the next task grades.

    A task pays a fixed cost on its worker (a pytest session: collecting the
    suites, the sandbox canary; a fraction of a second here) and on the scheduler (a few
    ms): a chunk of 16 spreads it over 16 submissions' grading (0.2-0.4 s
    each on 5 exercises). Chunks shrink as the class runs out (guided
    self-scheduling, as OpenMP's ``schedule(guided)``): each takes at most
    1 / (``TAIL_SHARE`` × workers) of what is left, so the last chunks are
    single submissions and no worker waits long for another's last chunk.
    """
    return max(1, min(MAX_CHUNK, math.ceil(remaining / (TAIL_SHARE * max(1, workers)))))


def parse_scheduler(address: str) -> int | str:
    """``local:N`` → N (a LocalCluster of N workers), else a scheduler address. Raises UserError."""
    if address.startswith("local:"):
        count = address.partition(":")[2]
        if not count.isdigit() or int(count) < 1:
            raise UserError(f"--scheduler local:N needs a number of workers, got {address!r}")
        return int(count)
    if "://" not in address:
        raise UserError(f"--scheduler takes local:N or a Dask scheduler's address (tcp://host:8786), got {address!r}")
    return address


def _packed(entry: Entry) -> bytes:
    """What is shipped of an entry: nothing when its name is refused (the worker does not read it)."""
    return b"" if entry.refused else pack_entry(entry.path)


@dataclass
class _Queue:
    """What is left of a batch: entries never sent, chunks to send again first, and tries per entry."""

    remaining: deque[Entry]
    waiting: deque[list[Entry]] = field(default_factory=deque)
    attempts: dict[str, int] = field(default_factory=dict)

    def attempt(self, entry: Entry) -> int:
        """Count one more failed try of ``entry``; returns its tries so far."""
        self.attempts[entry.name] = self.attempts.get(entry.name, 0) + 1
        return self.attempts[entry.name]


class ClusterRunner:
    """Grades the pending entries on a Dask cluster, one chunk per task; results go to ``sink``."""

    def __init__(self, scheduler: str, course: Course, specs: Sequence[ExerciseSpec], options: dict[str, Any],
                 sink: ResultSink, *, max_attempts: int) -> None:
        self.target = parse_scheduler(scheduler)
        self.course, self.specs, self.sink, self.max_attempts = course, specs, sink, max_attempts
        self.job = json.dumps({"exercises": [s.id for s in specs], "options": options})
        self.client: Client | None = None
        self.cluster: LocalCluster | None = None
        self.digest = ""
        self.in_flight: dict[Future[list[str]], list[Entry]] = {}
        self.workers = 1
        self.config: dask.config.set | None = None  # CLIENT_CONFIG, from start to close
        self.scratch: str | None = None  # a LocalCluster's local_directory

    def start(self) -> int:
        """Connect (or start a LocalCluster), ship the course; returns the cluster's worker threads."""
        self.config = dask.config.set(CLIENT_CONFIG)
        try:
            if isinstance(self.target, int):
                # Its scheduler's and workers' scratch (Dask's, not ours): removed with it, not left in /tmp.
                self.scratch = tempfile.mkdtemp(prefix="torchgrade-dask-")
                # A task whose workers died this many times ends in KilledWorker: the local batch's bound.
                with dask.config.set({**LOCAL_CLUSTER_CONFIG, "temporary-directory": self.scratch,
                                      "distributed.scheduler.allowed-failures": self.max_attempts - 1}):
                    self.cluster = LocalCluster(n_workers=self.target, threads_per_worker=1, processes=True,
                                                # any free port: a busy 8787 is not worth a warning
                                                dashboard_address=":0", silence_logs=logging.ERROR)
                self.client = Client(self.cluster)
            else:
                self.client = Client(self.target, timeout="30s")
        except OSError as error:  # unreachable, refused, timed out
            raise ClusterError(f"cannot reach the Dask scheduler {self.target}: {error}") from None
        bundle, self.digest = pack_course(self.course, self.course.exercises)  # whole: one version, any subset
        # Sent once to each worker, and to every worker that joins later; its setup starts the zygote first.
        self.client.register_plugin(CoursePlugin(bundle, self.digest, owned=self.cluster is not None),
                                    name=plugin_name(self.digest))
        self.workers = max(1, sum(self.client.nthreads().values()))
        return self.workers

    def run(self, pending: Sequence[Entry]) -> None:
        if not pending:
            return
        queue = _Queue(remaining=deque(pending))
        finished: as_completed = as_completed()
        self._top_up(queue, finished)
        for future in finished:
            chunk = self.in_flight.pop(future)
            if future.status == "cancelled":  # by someone else: the scheduler restarted, another client
                raise ClusterError("the Dask cluster cancelled a chunk of this batch")
            if future.status == "error":
                self._failed_chunk(future.exception(), chunk, queue)
            else:
                self._finished_chunk(future.result(), chunk, queue)
            future.release()
            self._top_up(queue, finished)

    def _top_up(self, queue: _Queue, finished: as_completed) -> None:
        """Send chunks until each worker has its share in flight; those sent again go first.
        Entries are read only when their chunk is sent: the client's memory stays flat in the class size."""
        while (queue.waiting or queue.remaining) and len(self.in_flight) < IN_FLIGHT_PER_WORKER * self.workers + 1:
            if queue.waiting:
                chunk = queue.waiting.popleft()
                finished.add(self._submit(chunk, [_packed(e) for e in chunk]))
            else:
                remaining = queue.remaining
                finished.add(self._submit(*self._fill(remaining, chunk_size(len(remaining), self.workers))))

    def _failed_chunk(self, error: BaseException | None, chunk: list[Entry], queue: _Queue) -> None:
        """A lost worker (KilledWorker) or an error the task raised: which entry caused it? Each goes
        again alone; one that fails alone is that entry's row, never the batch's end."""
        why = LOST if isinstance(error, KilledWorker) else f"raised {type(error).__name__}"
        if len(chunk) > 1:
            queue.waiting.extendleft([entry] for entry in reversed(chunk))
            self.sink.report(Retry(tuple(e.name for e in chunk), why))
            return
        # Dask already tried a KilledWorker's task on max_attempts workers
        if isinstance(error, KilledWorker) or queue.attempt(chunk[0]) >= self.max_attempts:
            self.sink.failed(chunk[0].name, why)
        else:
            queue.waiting.appendleft(chunk)
            self.sink.report(Retry((chunk[0].name,), why))

    def _finished_chunk(self, lines: list[str], chunk: list[Entry], queue: _Queue) -> None:
        """Store a chunk's results; an entry the session ended without goes once more alone, then is a failed row."""
        for entry in self._accept(lines, chunk):
            if queue.attempt(entry) >= self.max_attempts:
                self.sink.failed(entry.name, "ended without its result")
            else:
                queue.waiting.appendleft([entry])

    @staticmethod
    def _fill(remaining: deque[Entry], size: int) -> tuple[list[Entry], list[bytes]]:
        """The next chunk: up to ``size`` entries of ``remaining``, packed, holding
        at most ``CHUNK_BYTES`` unless its one entry is more (up to the 64 MB an
        entry may be). Sixteen students who each hand in 60 MB are sixteen chunks,
        not a gigabyte in the client's memory at once."""
        chunk: list[Entry] = []
        packed: list[bytes] = []
        while remaining and len(chunk) < size:
            data = _packed(remaining[0])
            if chunk and sum(map(len, packed)) + len(data) > CHUNK_BYTES:
                break  # the next chunk reads it again: the price of large submissions only
            chunk.append(remaining.popleft())
            packed.append(data)
        return chunk, packed

    def _submit(self, chunk: list[Entry], packed: list[bytes]) -> Future[list[str]]:
        if self.client is None:
            raise RuntimeError("ClusterRunner.start() must come before run()")
        payload = [(e.job(), e.path.name, data) for e, data in zip(chunk, packed, strict=True)]
        future = self.client.submit(grade_chunk, self.digest, self.job, payload, pure=False,
                                    key=f"torchgrade-chunk-{uuid.uuid4().hex}")
        self.in_flight[future] = chunk
        return future

    def _accept(self, lines: list[str], chunk: list[Entry]) -> list[Entry]:
        """Store a chunk's results; returns its entries that came back without one."""
        names = {e.name for e in chunk}
        done = set()
        for line in lines:
            try:
                event = read_worker_line(line)
            except MalformedEvent as error:  # its submission, if any, goes again: said, never dropped silently
                self.sink.outcome.worker_errors.append(f"a Dask worker sent a line that is not one of its events: "
                                                       f"{error}")
                continue
            if isinstance(event, WorkerError):
                raise ClusterError(event.message)
            if isinstance(event, Graded) and event.submission in names:
                done.add(event.submission)
                self.sink.graded(event)
        return [e for e in chunk if e.name not in done and e.name not in self.sink.stored]

    def stop(self) -> None:
        """Ctrl-C or a failure: cancel what was sent (a LocalCluster's workers go with ``close``)."""
        if self.client is not None and self.in_flight:
            self.client.cancel(list(self.in_flight), force=True)
            self.in_flight.clear()

    def close(self) -> None:
        """Take the course off a cluster that outlives the batch (its teardown closes the zygotes); disconnect."""
        if self.client is not None:
            if self.cluster is None and self.digest:
                try:
                    self.client.unregister_worker_plugin(plugin_name(self.digest))
                except (OSError, ValueError, KeyError):
                    pass  # gone already: nothing to take off
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None
        if self.config is not None:
            self.config.__exit__(None, None, None)
            self.config = None

