"""The Dask worker's side of ``grade batch --scheduler``: a worker plugin and the task it runs.

Like ``worker`` (a local batch worker), it imports nothing of the client
(``cluster``, ``controller``): only the sandbox client, the course, the
payloads and, lazily, the runner. Each Dask worker process grades as a local
batch worker does:

- ``CoursePlugin.setup`` (once per worker, also for a worker that joins or is
  restarted later) starts the worker's zygote FIRST, before this process
  imports torch or reads a solution or a suite; then unpacks the course the
  client shipped (bytes: no shared file system) into a folder of its own,
  checks its fingerprint against the client's and loads it;
- ``grade_chunk`` (a task) reads its entries one at a time through the one
  boundary (``read_submission``: unpacking and reading a bad entry is that
  entry's refusal, never the chunk's end), grades them in ONE ``runner.grade``
  session with that zygote, one sandbox per submission with every wall, and
  returns one JSON text per submission: the grader's own result record
  (``to_plain``). Nothing a sandbox produced is ever pickled or unpickled:
  rooms answer the runner over their own channel, as in a local batch.

The worker writes nothing to OUT (it has no access to it): the client does.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from distributed import WorkerPlugin, get_worker

from grader.commands.batch.payload import PayloadError, unpack_course, unpack_entry
from grader.commands.batch.worker import grade_share
from grader.course.catalogue import Course, CourseError, ExerciseSpec, load_course
from grader.course.submissions import Submission, read_submission, unreadable, without_files
from grader.course.warming import needed_features
from grader.engine.snapshot import CourseFiles
from grader.errors import GraderFailure
from grader.engine.session import GradingSession
from grader.results import SubmissionResult
from grader.sandbox.client import ZygoteLost

PLUGIN_PREFIX = "torchgrade-course-"


def plugin_name(digest: str) -> str:
    """One plugin per course version: two batches of different courses can share a cluster."""
    return PLUGIN_PREFIX + digest[:16]


class CoursePlugin(WorkerPlugin):
    """Holds a worker's zygote and its unpacked, verified copy of the course."""

    def __init__(self, course: bytes, digest: str, *, owned: bool = False) -> None:
        self.course_bytes, self.digest = course, digest
        # A LocalCluster's workers belong to the client's process: Ctrl-C reaches the client only, which stops
        # them (as a local batch's workers are in their own session), not each worker mid-chunk.
        self.owned = owned
        self.closing = False
        self.session: GradingSession | None = None
        self.root: Path | None = None
        self.course: Course | None = None
        self.fingerprints: dict[str, str] | None = None
        self.files: CourseFiles | None = None  # the course's suites and solutions, read once, as verified
        # The reference solutions and their known mistakes, compiled from ``files`` at the first chunk (it
        # imports torch): their replies are cached across chunks as across a local worker's one session.
        self.references: Any = None
        self.problem: str | None = None  # why this worker cannot grade with this course

    def setup(self, worker: Any) -> None:  # noqa: ARG002 - Dask calls setup(worker=...) by keyword
        self.lock = threading.Lock()  # one session at a time per zygote, whatever threads_per_worker says
        # First: nothing of the course is read before the zygote is out of this process.
        self.session = GradingSession.start()
        if self.owned:
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            except ValueError:  # not the main thread: leave the terminal's process group instead
                os.setpgrp()
        self.root = Path(tempfile.mkdtemp(prefix="torchgrade-course-"))
        try:
            unpack_course(self.course_bytes, self.root, self.digest)
            self.course = load_course(self.root)
            self.session.zygote.warm(needed_features(self.course.exercises))  # before it is ready, as a worker does
            # What the runner will execute, as verified: any change on this worker's disk is refused.
            self.files = CourseFiles.read(self.course.exercises)
            self.fingerprints = self.files.fingerprints()
        except (PayloadError, CourseError, OSError) as error:
            self.problem = f"a worker could not use the course it was sent: {error}"
        self.course_bytes = b""  # unpacked: no need to keep a second copy in memory
        # Import torch and the runner while the zygote warms up, not when the first
        # chunk arrives (the zygote is out of this process already; a chunk's import waits on this one).
        session = self.session
        threading.Thread(target=lambda: session.runner, name="torchgrade-warm-up", daemon=True).start()

    def teardown(self, worker: Any) -> None:  # noqa: ARG002 - Dask calls teardown(worker=...) by keyword
        self.closing = True  # a chunk still running ends at its next sandbox, unreported (ZygoteLost)
        if self.session is not None:
            self.session.close()
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)


def grade_chunk(digest: str, job: str, entries: list[tuple[dict[str, Any], str, bytes]]) -> list[str]:
    """Grade ``entries`` (the entry as a job lists it (``Entry.job``), its file name, the packed
    entry) with the course of ``digest``.

    ``job`` is JSON: ``exercises`` (ids) and ``options`` (``GradeOptions``
    fields, the seed resolved). Returns one JSON text per finished
    submission, ``{"event": "graded", ...}`` as a local worker sends, or a
    single ``{"event": "error", "message": ...}`` when the batch cannot run
    here at all (a course that does not match, a broken suite).
    """
    plugin = get_worker().plugins.get(plugin_name(digest))
    if not isinstance(plugin, CoursePlugin) or plugin.course is None or plugin.session is None:
        problem = getattr(plugin, "problem", None) or "this worker was not sent the course of this batch"
        return [json.dumps({"event": "error", "message": problem})]
    if plugin.digest != digest:
        return [json.dumps({"event": "error", "message": "this worker holds another version of the course"})]
    with plugin.lock:
        return _grade(plugin, plugin.course, plugin.session, json.loads(job), entries)


def _grade(plugin: CoursePlugin, course: Course, session: GradingSession, job: dict[str, Any],
           entries: list[tuple[dict[str, Any], str, bytes]]) -> list[str]:
    if plugin.references is None:
        from grader.engine.subjects import LiveSolutions  # noqa: PLC0415 - imports torch, like the runner

        plugin.references = LiveSolutions(plugin.files)
    lines: list[str] = []
    unpacked = Path(tempfile.mkdtemp(prefix="torchgrade-chunk-"))
    try:
        specs = [course.exercise(i) for i in job["exercises"]]
        filenames = [s.filename for s in specs]
        submissions = [read_packed(entry, filename, data, filenames, unpacked / str(number))
                       for number, (entry, filename, data) in enumerate(entries)]

        def graded(_result: SubmissionResult, event: dict[str, Any]) -> None:
            lines.append(json.dumps(event))

        grade_share(session, course, specs, submissions, job["options"], on_graded=graded,
                    expected_files=_of(plugin.fingerprints, specs), references=plugin.references)
    except ZygoteLost:
        # Its sandboxes are gone: what finished stands, the rest goes back to the client (sent again). Unless
        # this worker is shutting down, the next chunk gets a new zygote: a fresh interpreter (exec, not
        # fork), so nothing this process has read since is in it.
        if not plugin.closing:
            session.restart()
    except (GraderFailure, CourseError, PayloadError) as error:  # the batch cannot run: say why, once
        return [json.dumps({"event": "error", "message": str(error)})]
    finally:
        shutil.rmtree(unpacked, ignore_errors=True)
    return lines


def read_packed(entry: dict[str, Any], filename: str, data: bytes, exercise_filenames: list[str],
                folder: Path) -> Submission:
    """One packed entry as a submission: unpacked under ``folder`` with its own file name (messages
    quote it), then read through the boundary. Never raises: whatever fails is the entry's refusal."""
    if entry.get("refused"):
        return read_submission(folder, exercise_filenames, name=entry["name"], refused=entry["refused"],
                               notes=entry.get("notes") or ())
    try:
        (folder / "entry").mkdir(parents=True)
        path = unpack_entry(data, folder / "entry", filename)
    except Exception as error:  # noqa: BLE001 - the boundary, as read_submission's: this entry's refusal
        return without_files(entry["name"], unreadable(entry["name"], error), notes=entry.get("notes") or ())
    return read_submission(path, exercise_filenames, name=entry["name"], unpack_to=folder / "zip",
                           notes=entry.get("notes") or ())


def _of(fingerprints: dict[str, str] | None, specs: list[ExerciseSpec]) -> dict[str, str] | None:
    """The fingerprints of the files a session over ``specs`` reads (the runner compares exactly those)."""
    if fingerprints is None:
        return None
    wanted = {str(path) for spec in specs for path in (spec.suite, spec.solution)}
    return {path: digest for path, digest in fingerprints.items() if path in wanted}
