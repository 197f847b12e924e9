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

import os
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.record.classbook import (
    SUBMISSIONS_FOLDER, build_outputs_from_record, collect_results, write_current, write_submission)
from grader.commands.batch.entries import Entry, is_up_to_date, list_entries
from grader.commands.batch.events import Planned, ProgressEvent
from grader.commands.batch.local_workers import local_runner, worker_command
from grader.commands.batch.sink import MAX_ATTEMPTS, BatchError, BatchOutcome, ResultSink, Runner
from grader.record.tally import summarize
from grader.course.catalogue import Course, ExerciseSpec, load_course
from grader.errors import GraderFailure, UserError
from grader.options import GradeOptions
from grader.record.database import ClassRecord
from grader.record.planning import check_plan, grading_seed, plan_batch
from grader.record.schema import RecordFull, is_disk_full
from grader.record.fingerprint import course_fingerprint, files_hash, grader_version
from grader.results import SubmissionResult

__all__ = ["MAX_ATTEMPTS", "BatchError", "BatchOutcome", "grade_batch", "run_batch"]  # what the CLI and tests name


def grade_batch(submissions: Path, out: Path, *, course_root: Path | None = None,
                exercise_ids: Sequence[str] = (), jobs: int | None = None, resume: bool = False,
                options: GradeOptions | None = None, force: bool = False,
                on_progress: Callable[[ProgressEvent], None] | None = None, scheduler: str | None = None,
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
              on_progress: Callable[[ProgressEvent], None] | None = None,
              command: Sequence[str] | None = None, force: bool = False,
              scheduler: str | None = None, only: Sequence[str] = (), prune: bool = False) -> BatchOutcome:
    """Grade every entry of ``submissions`` into ``out`` with ``jobs`` worker processes.

    ``options`` (seed, limits, isolation) reach every worker as they are; a
    seed of None is the course's. ``on_progress`` receives typed records
    (``events``): ``Planned`` once, then ``Graded`` or ``Failed`` per
    submission and ``Retry`` when a worker died. Ctrl-C stops the
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
        batch = _Batch(record=record, run_id=run_id, out=out, course=course, outcome=outcome, hashes=hashes,
                       subset=set(ids) != set(course.ids), overridden={name for name, _ in record.overrides()},
                       listed=[e.name for e in entries])
        report: Callable[[ProgressEvent], None] = on_progress or _ignore_progress
        job_options = {**options.to_plain(), "seed": seed}
        sink = ResultSink(outcome, batch.store, report, specs, seed,
                          write=batch.write_unless_overridden if scheduler is not None and not batch.subset else None)
        runner: Runner
        if scheduler is None:
            jobs = max(1, min(jobs or os.cpu_count() or 1, len(pending) or 1))
            runner = local_runner(course, specs, out, ids, batch.subset, sorted(batch.overridden), job_options,
                                  command or worker_command(), jobs, report, sink)
        else:
            runner = cluster_runner(scheduler, course, specs, job_options, sink)
        batch.run(runner, pending, report)
        batch.finish(prune=prune, only=bool(only))
    outcome.elapsed_s = round(time.monotonic() - started, 3)
    return outcome


def _ignore_progress(_event: ProgressEvent) -> None:
    """No ``on_progress`` given: nobody is told."""


@dataclass
class _Batch:
    """One run of a batch inside its open class record: storing results as they come, running the
    workers, then rebuilding OUT from the record."""

    record: ClassRecord
    run_id: int
    out: Path
    course: Course
    outcome: BatchOutcome
    hashes: dict[str, str]
    subset: bool  # grading some of the exercises: the controller writes each submission's files
    overridden: set[str]  # submissions with an override in force: the controller writes their files
    listed: list[str]  # the entries of SUBMISSIONS

    def store(self, result: SubmissionResult, *, written: bool = True) -> None:
        """One result into the record (one transaction); OUT/<name>/ written from the record where the
        worker did not write it. A full disk costs this entry only: it is named, and the batch goes on."""
        outcome, out, course = self.outcome, self.out, self.course
        try:
            self.record.store(self.run_id, result, files_hash=self.hashes.get(result.submission, ""))
            if self.subset or result.submission in self.overridden or not written:
                write_current(out, self.record.current_of(result.submission), course.hidden_visibility,
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

    def write_unless_overridden(self, result: SubmissionResult) -> None:
        """A cluster's result's files, written here (its workers cannot write OUT), unless the record's
        override is in force (then ``store`` writes them from the record)."""
        if result.submission not in self.overridden:
            write_submission(self.out, result, self.course.hidden_visibility, course_title=self.course.title)

    def run(self, runner: Runner, pending: Sequence[Entry], report: Callable[[ProgressEvent], None]) -> None:
        """Start the workers and grade ``pending``; Ctrl-C stops them and keeps what finished."""
        outcome = self.outcome
        try:
            jobs = runner.start() if pending else 0  # a cluster takes seconds to start: Ctrl-C may come here
            outcome.jobs = jobs if pending else 0
            report(Planned(total=len(pending), skipped=len(outcome.skipped), jobs=outcome.jobs))
            runner.run(pending)
        except KeyboardInterrupt:
            with _uninterrupted():
                runner.stop()
                outcome.interrupted = True
        except GraderFailure:  # BatchError, or a cluster that cannot grade
            runner.stop()
            # OUT stays consistent with what finished
            build_outputs_from_record(self.record, self.out, title=self.course.title, course_ids=self.course.ids,
                                      listed=self.listed)
            raise
        except BaseException:
            runner.stop()
            raise
        finally:
            with _uninterrupted():
                runner.close()

    def finish(self, *, prune: bool, only: bool) -> None:
        """Close the run in the record (unless interrupted), prune, and rebuild OUT's class files."""
        outcome, record = self.outcome, self.record
        try:
            if not outcome.interrupted:
                record.finish_run(self.run_id)  # an interrupted run stays unfinished in the record
            if prune and not outcome.interrupted:
                outcome.removed = record.prune(self.listed, run_id=self.run_id,
                                               reason="no longer in the submissions folder (--prune)")
            kept = set(self.listed)
            outcome.not_listed = [] if only else [n for n in record.current_names() if n not in kept]
            outcome.summary = build_outputs_from_record(record, self.out, title=self.course.title,
                                                        course_ids=self.course.ids, listed=self.listed)
        except (sqlite3.Error, OSError) as error:
            if not is_disk_full(error):
                raise
            outcome.stale_outputs = True
            outcome.notes.append(f"the class files in {self.out} could not be rebuilt: the disk is full ({error}); "
                                 "every result stored is kept in the class record: free some space, then "
                                 "`grade batch --resume` rebuilds them")


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


def cluster_runner(scheduler: str, course: Course, specs: Sequence[ExerciseSpec], options: dict[str, Any],
                    sink: ResultSink) -> Runner:
    try:
        from grader.commands.batch import cluster  # noqa: PLC0415 - dask only when asked for
    except ImportError as error:
        raise UserError(f"--scheduler needs Dask ({error}): "
                        "pip install -e '.[cluster]' in the course's folder") from None
    return cluster.ClusterRunner(scheduler, course, specs, options, sink, max_attempts=MAX_ATTEMPTS)



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

