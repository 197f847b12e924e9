"""The controller of ``grade batch``: plan, run workers, survive their deaths, rebuild OUT.

It never imports torch, a solution or a hidden suite. It lists the entries of
SUBMISSIONS (``entries``), decides which need grading (``--resume``), and
hands each of ``jobs`` worker processes a static share. A worker
(``worker``, a fresh interpreter) grades its share and writes each
submission's files itself; only plain JSON lines come back. A worker that
dies becomes retries and, at worst, rows that say "the grader failed on this
submission" (``classbook.failed_result``), never a crashed batch. The
controller alone writes the class record (``OUT/gradebook.sqlite``,
``grader.record``): each result the moment it arrives. At the end (or on
Ctrl-C, or when the grader cannot run at all) the gradebook and the class
summary are rebuilt from the record (``classbook.build_outputs_from_record``).
"""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grader
from grader.record.classbook import (
    GRADER_FAILED, SUBMISSIONS_FOLDER, build_outputs_from_record, collect_results, failed_result, write_current,
    write_submission)
from grader.record.tally import ClassSummary, summarize
from grader.commands.batch.entries import Entry, is_up_to_date, list_entries
from grader.commands.batch.worker import BOOT
from grader.course.catalogue import Course, ExerciseSpec, load_course
from grader.errors import EXIT_GRADER_FAILURE, EXIT_INTERRUPTED, GraderFailure, UserError
from grader.options import GradeOptions
from grader.record.database import ClassRecord
from grader.record.planning import check_plan, grading_seed, plan_batch
from grader.record.schema import RecordFull, is_disk_full
from grader.record.fingerprint import course_fingerprint, files_hash, grader_version
from grader.results import MalformedResult, SubmissionResult, from_plain

MAX_ATTEMPTS = 2  # a submission left unfinished by this many crashed workers gets a failed row
STOP_GRACE_S = 5.0  # after SIGTERM, how long workers get to close their zygotes before SIGKILL

# The folder holding the grader package, put back on a worker's path (it runs with -I).
_GRADER_PARENT = str(Path(grader.__file__).resolve().parent.parent)


class BatchError(GraderFailure):
    """The batch could not run at all (a broken suite, a zygote that cannot start)."""


@dataclass
class BatchOutcome:
    """What a batch did: read by the progress display and the CLI; the class's files are in ``out``."""

    out: Path
    summary: ClassSummary
    graded: list[str] = field(default_factory=list)  # finished in this run
    skipped: list[str] = field(default_factory=list)  # up to date (--resume)
    failed: list[str] = field(default_factory=list)  # the grader failed on them in this run
    hidden: list[str] = field(default_factory=list)  # hidden entries of SUBMISSIONS left out
    not_listed: list[str] = field(default_factory=list)  # current in the record, not in SUBMISSIONS: kept
    removed: list[str] = field(default_factory=list)  # removed by this run (--prune), recorded in history
    restored: list[str] = field(default_factory=list)  # removed before, back in SUBMISSIONS: current again
    only: list[str] = field(default_factory=list)  # --only: the named entries graded, the class left as it was
    notes: list[str] = field(default_factory=list)  # worth saying (a new course version)
    replaced: int = 0  # current exercise results this run grades again (kept in the record's history)
    interrupted: bool = False
    jobs: int = 0
    elapsed_s: float = 0.0
    worker_errors: list[str] = field(default_factory=list)  # stderr tails of workers that died
    unstored: list[str] = field(default_factory=list)  # graded, but the disk was full when storing them
    stale_outputs: bool = False  # the disk was full when the class files were rebuilt at the end

    @property
    def exit_status(self) -> int:
        """130 when interrupted, 3 when the grader failed on a submission or a full disk kept a result
        or the class files from being written, else 0 (whatever the scores: grading a class succeeded)."""
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_GRADER_FAILURE if self.failed or self.unstored or self.stale_outputs else 0


@dataclass
class _Worker:
    process: subprocess.Popen
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


def grade_batch(submissions: Path, out: Path, *, course_root: Path | None = None,
                exercise_ids: Sequence[str] = (), jobs: int | None = None, resume: bool = False,
                options: GradeOptions | None = None, force: bool = False,
                on_progress: Callable[[dict], None] | None = None, scheduler: str | None = None,
                only: Sequence[str] = (), prune: bool = False) -> BatchOutcome:
    """What ``grade batch`` does: load the course (found from here upwards
    when ``course_root`` is None) and grade the class (``run_batch``). Raises
    ``CourseError`` for a bad course or an exercise it lacks (before anything
    is written), ``BatchError`` if the grader cannot run at all. ``scheduler``:
    grade on a Dask cluster instead of local workers (``run_batch``)."""
    return run_batch(submissions, out, load_course(course_root), exercise_ids=list(exercise_ids) or None,
                     jobs=jobs, resume=resume, options=options, on_progress=on_progress, force=force,
                     scheduler=scheduler, only=only, prune=prune)


def run_batch(submissions: Path, out: Path, course: Course, *, exercise_ids: Sequence[str] | None = None,
              jobs: int | None = None, resume: bool = False, options: GradeOptions | None = None,
              on_progress: Callable[[dict], None] | None = None,
              command: Sequence[str] | None = None, force: bool = False,
              scheduler: str | None = None, only: Sequence[str] = (), prune: bool = False) -> BatchOutcome:
    """Grade every entry of ``submissions`` into ``out`` with ``jobs`` worker processes.

    ``options`` (seed, limits, isolation) reach every worker as they are; a
    seed of None is the course's. ``on_progress`` receives plain dicts:
    ``{"event": "planned", "total": n, "skipped": k}`` once, then ``{"event":
    "graded" | "failed", "submission": name, ...}`` per submission and
    ``{"event": "retry", ...}`` when a worker died. Ctrl-C stops the
    workers, keeps finished results and returns with ``interrupted`` set.
    Raises ``BatchError`` if the grader cannot run at all, and
    ``RecordRefused`` (a ``UserError``, before anything is graded) when OUT's
    class record holds another course or results of another seed, unless
    ``force``. ``command`` replaces the worker command (for tests).

    ``scheduler`` (``"local:N"`` or ``"tcp://host:port"``) grades on a Dask
    cluster instead (``cluster``): the same plan, record, progress events,
    Ctrl-C and ``--resume``; ``jobs`` is then the cluster's worker threads.

    The controller is the only writer of ``OUT/gradebook.sqlite``: each
    submission's result is stored in one transaction as it arrives, so an
    interrupted run loses at most the submissions in flight; grading a subset
    (some exercises, some submissions) replaces exactly that in the record,
    and every file in OUT is rebuilt from the record's current state.

    A submission in the record but not in ``submissions`` stays as it was
    (``outcome.not_listed``): grading a folder of one student into a class's
    OUT grades that student alone. ``only``: grade just these entries of
    ``submissions`` (``UserError`` for a name it lacks). ``prune``: remove
    from the current results every submission not in ``submissions``, each
    removal recorded (history shows it); refused together with ``only``.
    A removed submission back in ``submissions`` is restored (recorded), and
    with ``resume`` not graded again if its files are unchanged.
    """
    started = time.monotonic()
    options = options or GradeOptions()
    if prune and only:
        raise UserError("--prune removes everyone not in SUBMISSIONS, --only grades some of them: "
                        "use one or the other")
    specs = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
    entries, hidden = list_entries(submissions, exclude=out)
    if only:
        entries = only_entries(entries, only)
    out.mkdir(parents=True, exist_ok=True)
    ids = [s.id for s in specs]
    hashes = {e.name: files_hash(e.path) for e in entries}
    fingerprint = course_fingerprint(course.root, course.exercises)
    with ClassRecord.open(out) as record:
        adopt_results(record, out, course, entries, hashes)
        move_to_submissions_folder(record, out, course)
        seed = options.seed if options.seed is not None else batch_seed(course, record)
        fresh, plan = plan_batch(record, course_title=course.title, course_fingerprint=fingerprint, seed=seed,
                                 exercise_ids=ids, hashes=hashes, resume=resume)
        pending = [e for e in entries if e.name not in fresh]
        # Before anything is graded: refuse what would mix courses or seeds (nothing written but the record's file).
        check_plan(plan, force=force)
        outcome = BatchOutcome(out=out, summary=summarize([], ids), hidden=hidden,
                               skipped=[e.name for e in entries if e.name in fresh],
                               notes=[*plan.notes, *public_seed_note(course, seed)],
                               replaced=plan.replaced, only=[e.name for e in entries] if only else [])
        run_id = record.begin_run(grader_version=grader_version(), seed=seed, course_title=course.title,
                                  course_fingerprint=fingerprint, exercise_ids=ids, forced=force and plan.refused)
        outcome.restored = record.restore([e.name for e in entries], run_id=run_id,
                                          reason="back in the submissions folder")
        # Each submission's files are written once. A subset of the exercises: the worker's files would lack
        # the rest, so it writes none and the controller writes them from the record (a crash in between
        # leaves the earlier, whole files); so for a submission with an override in force (its page shows it).
        subset = set(ids) != set(course.ids)
        overridden = {name for name, _ in record.overrides()}

        def store(result: SubmissionResult, *, written: bool = True) -> None:
            """One result into the record (one transaction); OUT/<name>/ written from the record where the
            worker did not write it. A full disk costs this entry only: it is named, and the batch goes on."""
            try:
                record.store(run_id, result, files_hash=hashes.get(result.submission, ""))
                if subset or result.submission in overridden or not written:
                    write_current(out, record.current_of(result.submission), course.hidden_visibility,
                                  course_title=course.title)
            except RecordFull as full:
                outcome.unstored.append(result.submission)
                outcome.notes.append(str(full))
            except OSError as error:
                if not is_disk_full(error):
                    raise
                outcome.unstored.append(result.submission)
                outcome.notes.append(f"the files of {result.submission!r} in {out} could not be written: the disk "
                                     f"is full ({error}); its result is in the class record")

        report = on_progress or (lambda event: None)
        job_options = {**dataclasses.asdict(options), "seed": seed}
        runner: _Runner
        if scheduler is None:
            jobs = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
            job = {"course": str(course.root), "out": str(out.resolve()), "exercises": ids, "write_files": not subset,
                   "not_written": sorted(overridden), "options": job_options}
            runner = _local_runner(specs, job, command or worker_command(), jobs, report,
                                   ResultSink(outcome, store, report, specs, seed))
        else:
            runner = _cluster_runner(scheduler, course, specs, job_options, ResultSink(
                outcome, store, report, specs, seed,
                write=None if subset else lambda r: None if r.submission in overridden
                else write_submission(out, r, course.hidden_visibility, course_title=course.title)))
        listed = [e.name for e in entries]
        try:
            jobs = runner.start() if pending else 0  # a cluster takes seconds to start: Ctrl-C may come here
            outcome.jobs = jobs if pending else 0
            report({"event": "planned", "total": len(pending), "skipped": len(outcome.skipped),
                    "jobs": outcome.jobs})
            runner.run(pending)
        except KeyboardInterrupt:
            with _uninterrupted():
                runner.stop()
                outcome.interrupted = True
        except GraderFailure:  # BatchError, or a cluster that cannot grade
            runner.stop()
            # OUT stays consistent with what finished
            build_outputs_from_record(record, out, title=course.title, course_ids=course.ids, listed=listed)
            raise
        except BaseException:
            runner.stop()
            raise
        finally:
            with _uninterrupted():
                runner.close()
        try:
            if not outcome.interrupted:
                record.finish_run(run_id)  # an interrupted run stays unfinished in the record
            if prune and not outcome.interrupted:
                outcome.removed = record.prune(listed, run_id=run_id,
                                               reason="no longer in the submissions folder (--prune)")
            kept = set(listed)
            outcome.not_listed = [] if only else [n for n in record.current_names() if n not in kept]
            outcome.summary = build_outputs_from_record(record, out, title=course.title, course_ids=course.ids,
                                                        listed=listed)
        except (sqlite3.Error, OSError) as error:
            if not is_disk_full(error):
                raise
            outcome.stale_outputs = True
            outcome.notes.append(f"the class files in {out} could not be rebuilt: the disk is full ({error}); "
                                 "every result stored is kept in the class record: free some space, then "
                                 "`grade batch --resume` rebuilds them")
    outcome.elapsed_s = round(time.monotonic() - started, 3)
    return outcome


def only_entries(entries: Sequence[Entry], names: Sequence[str]) -> list[Entry]:
    """The entries named (``--only``, by the name the gradebook shows or the
    file's: ``ken`` or ``ken.zip``), in SUBMISSIONS' order; a name it lacks is a ``UserError``."""
    wanted = set(names)
    missing = sorted(wanted - {e.name for e in entries} - {e.path.name for e in entries})
    if missing:
        known = ", ".join(e.name for e in entries[:20]) + (", …" if len(entries) > 20 else "")
        raise UserError(f"--only names {', '.join(map(repr, missing))}, not an entry of SUBMISSIONS "
                        f"(its entries: {known or 'none'})")
    return [e for e in entries if e.name in wanted or e.path.name in wanted]


def batch_seed(course: Course, record: ClassRecord) -> int:
    """The seed a batch grades at when ``--seed`` is not given: the class
    record's grading seed (``grading_seed``), which no student copy holds; a
    student copy's batch can only grade at its recorded, public seed."""
    if course.is_student_copy:
        return course.seed
    return grading_seed(record, declared=course.grading_seed)


def public_seed_note(course: Course, seed: int) -> tuple[str, ...]:
    """A class graded at the course's public seed: a student copy's recorded answers score there."""
    if course.is_student_copy or seed != course.seed:
        return ()
    return (f"graded at the course's public seed {seed}, whose public tests' answers every student copy holds "
            "(a file of those answers scores their points): grade at a seed of your own with --seed N --force",)


def adopt_results(record: ClassRecord, out: Path, course: Course, entries: Sequence[Entry],
                  hashes: dict[str, str]) -> int | None:
    """An OUT graded before it had a class record: take its ``results.json``
    files in as one run, so that a subset re-grade keeps them. A result newer
    than its entry keeps the entry's files hash (``--resume`` may skip it)."""
    if record.runs():
        return None
    legacy = not collect_results(out)  # results.json files in OUT/<name>/, as OUTs were written then
    results = collect_results(out, legacy=legacy)
    if not results:
        return None
    by_name = {e.name: e for e in entries}
    newer = {name: hashes[name] for name, entry in by_name.items()
             if is_up_to_date(entry, out, seed=results[0].seed, legacy=legacy, exercise_ids=[
                 e.exercise_id for r in results if r.submission == name for e in r.exercises])}
    return record.adopt(results, course_title=course.title, files_hashes=newer)


def move_to_submissions_folder(record: ClassRecord, out: Path, course: Course) -> int:
    """A record whose submissions' files were written as ``OUT/<name>/`` (before
    ``OUT/submissions/``): write them all in ``OUT/submissions/`` from the
    record, once, so a ``--resume`` that skips them still links to them. The
    old folders are left as they are (no longer read nor written)."""
    if (out / SUBMISSIONS_FOLDER).is_dir() or not record.runs():
        return 0
    written = 0
    for current in record.each_current():
        write_current(out, current, course.hidden_visibility, course_title=course.title)
        written += 1
    (out / SUBMISSIONS_FOLDER).mkdir(exist_ok=True)
    return written


def round_robin(items: Sequence, shares: int) -> list[list]:
    """Deal ``items`` into at most ``shares`` non-empty lists, in turn."""
    return [list(items[k::shares]) for k in range(min(shares, len(items)))]


class _Runner(Protocol):
    """What grades the pending entries: local worker processes (``_Scheduler``) or a Dask cluster."""

    def start(self) -> int:
        """Get ready; returns how many submissions it grades at a time."""
        ...

    def run(self, pending: Sequence[Entry]) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


@dataclass
class ResultSink:
    """Where every finished submission goes, whoever graded it: the class
    record (once per submission, even if a lost worker's task ran twice), the
    submission's files when ``write`` is given (a cluster's workers cannot
    write OUT), the outcome and the progress events."""

    outcome: BatchOutcome
    store: Callable[..., None]
    report: Callable[[dict], None]
    specs: Sequence[ExerciseSpec]
    seed: int
    write: Callable[[SubmissionResult], object] | None = None
    stored: set[str] = field(default_factory=set)

    def graded(self, event: dict) -> bool:
        """A worker's ``graded`` event; False if that submission was stored already. A result that is
        not whole (``MalformedResult``) is refused with its reason: the submission's row says the grader
        failed, why, and that it is not a score."""
        name = event.get("submission")
        if name in self.stored:
            return False
        try:
            result = from_plain(event.pop("result", None))
            if result.submission != name:
                raise MalformedResult(f"the result of {result.submission!r} came as that of {name!r}")
        except MalformedResult as error:
            if not isinstance(name, str) or not name:
                return False  # no submission to blame: what its worker leaves unfinished is retried
            self.refuse(name, f"its grading process sent a malformed result ({error})")
            return True
        if self.write is not None:
            self.write(result)  # before the record: as a local worker writes, then reports
        self.store(result)
        self.stored.add(result.submission)
        self.outcome.graded.append(result.submission)
        self.report(event)
        return True

    def failed(self, name: str, why: str) -> None:
        """A submission that ended ``MAX_ATTEMPTS`` grading processes: a row saying the grader failed."""
        self.refuse(name, f"its grading process {why}, twice")

    def refuse(self, name: str, why: str) -> None:
        """A row saying the grader failed on ``name``, and why (it is then never stored twice)."""
        if name in self.stored:
            return
        reason = (f"{GRADER_FAILED}: {why}. This is not the submission's score; grade it again with --resume, "
                  "and report it if it happens again.")
        self.store(failed_result(name, self.specs, self.seed, reason), written=False)
        self.stored.add(name)
        self.outcome.failed.append(name)
        self.report({"event": "failed", "submission": name, "reason": reason})


def _local_runner(specs: Sequence[ExerciseSpec], job: dict, command: Sequence[str], jobs: int,
                  report: Callable[[dict], None], sink: ResultSink) -> _Scheduler:
    from grader.engine.snapshot import CourseFiles  # noqa: PLC0415 - torch-free

    # What the workers will run, fingerprinted before any of them (or any sandbox) starts.
    return _Scheduler({**job, "course_files": CourseFiles.read(specs).fingerprints()}, command, jobs, report, sink)


def _cluster_runner(scheduler: str, course: Course, specs: Sequence[ExerciseSpec], options: dict,
                    sink: ResultSink) -> _Runner:
    try:
        from grader.commands.batch import cluster  # noqa: PLC0415 - dask only when asked for
    except ImportError as error:
        raise UserError(f"--scheduler needs Dask ({error}): "
                        "pip install -e '.[cluster]' in the course's folder") from None
    return cluster.ClusterRunner(scheduler, course, specs, options, sink, max_attempts=MAX_ATTEMPTS)


class _Scheduler:
    """Keeps up to ``jobs`` workers busy with shares; a dead worker's unfinished
    submissions go to new workers (the one it was grading alone, as the
    likely cause), and after ``MAX_ATTEMPTS`` become failed rows."""

    def __init__(self, job: dict, command: Sequence[str], jobs: int, report: Callable[[dict], None],
                 sink: ResultSink) -> None:
        self.job, self.command, self.jobs, self.report, self.sink = job, list(command), jobs, report, sink
        self.events: queue.Queue = queue.Queue()
        self.running: list[_Worker] = []
        self.attempts: Counter[str] = Counter()
        self.entries: dict[str, dict] = {}
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
            process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                       cwd=self.job["course"], text=True, encoding="utf-8", errors="replace",
                                       start_new_session=True)  # Ctrl-C reaches the parent, which stops them
        worker = _Worker(process=process, names=list(share), log=log)
        self.running.append(worker)
        threading.Thread(target=self._read, args=(worker,), daemon=True).start()
        assert process.stdin is not None  # stdin=PIPE
        try:
            process.stdin.write(json.dumps({**self.job, "entries": [self.entries[name] for name in share]}))
            process.stdin.close()
        except OSError:
            pass  # it died at once: its end of stdout says so

    def _read(self, worker: _Worker) -> None:
        assert worker.process.stdout is not None  # stdout=PIPE
        for line in worker.process.stdout:
            self.events.put((worker, line))
        self.events.put((worker, None))

    def _handle(self, worker: _Worker, line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return  # not ours: workers keep their stdout for the protocol, but be lenient
        if not isinstance(event, dict):
            return
        if event.get("event") == "graded" and event.get("submission") in worker.names:
            self.sink.graded(event)
            worker.done.add(event["submission"])
        elif event.get("event") == "reading":
            worker.reading = event.get("submission")
        elif event.get("event") == "grading":
            worker.reading = None
        elif event.get("event") == "error":
            worker.error = str(event.get("message", "the grader could not run"))

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
            self.report({"event": "retry", "submissions": [n for share in retries for n in share], "reason": why})
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


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """A second Ctrl-C must not cut a clean-up short (only the main thread handles signals)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _signal_group(process: subprocess.Popen, number: int) -> None:
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
