"""Before a run: what it would replace, why, and whether it may (pure reading: nothing is written).

A batch calls ``grading_seed``, ``up_to_date`` (``--resume``), then
``plan_run`` and ``check_plan``, which refuses (unless ``--force``) a run
into another course's record or over results graded at another seed. Each
reason to grade a result again is a value (``Why``), compared as a value.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from grader.record.current import Current
from grader.record.database import ClassRecord
from grader.record.schema import ADOPTED, RecordRefused, Run
from grader.results import ExerciseResult
from grader.status import Status
from grader.words import counted


class Why(str, Enum):
    """Why a planned run grades a current result again: values, compared as values."""

    RESTORED = "submission back in the folder"
    FILES_UNKNOWN = "files not recorded before"
    NEW_FILES = "new submission files"
    NEW_COURSE = "new course version"
    NEW_SEED = "new seed"
    GRADER_FAILED = "the grader failed last time"
    UNCHANGED = "graded again, nothing changed"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Replacement:
    """A current result that a planned run would grade again, and why."""

    submission: str
    exercise_id: str
    run_id: int
    why: tuple[Why, ...]


@dataclass(frozen=True)
class RunPlan:
    replaced: int  # current results the run would grade again (``replacements`` says which and why)
    refusals: tuple[str, ...]  # each a sentence: why the run must not go ahead without --force
    notes: tuple[str, ...]  # worth saying, not a reason to stop (a new course version)

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


def grading_seed(record: ClassRecord, *, declared: int | None) -> int:
    """The seed a class is graded at when none is given: the seed of the
    record's latest run, so that every run (``--resume`` too) replays the
    same inputs; for a new record, the course's ``grading_seed`` if it
    declares one, else a secret drawn here, kept in the record by its first
    run. Never the course's public ``seed``, unless a record was graded at
    it before: a student copy holds the public tests' answers at that seed.
    A new seed is a deliberate act: ``--seed N``, and ``--force`` when that
    would replace results graded at another (``plan_run``)."""
    latest = record.latest_run()
    if latest is not None:
        return latest.seed
    return declared if declared is not None else secrets.randbits(62)


def plan_batch(record: ClassRecord, *, course_title: str, course_fingerprint: str, seed: int,
               exercise_ids: Sequence[str], hashes: Mapping[str, str],
               resume: bool) -> tuple[set[str], RunPlan]:
    """A batch's plan, from one reading of the record: the entries ``--resume`` may skip (``up_to_date``;
    none without ``resume``) and what grading the others would replace (``plan_run``)."""
    runs = {r.id: r for r in record.runs()}
    fresh: set[str] = set()
    replaced: list[Replacement] = []
    for current in record.each_current(include_removed=True, brief=True):
        files_hash = hashes.get(current.submission)
        if files_hash is None:
            continue
        if resume and _fresh(current, runs, course_fingerprint, seed, exercise_ids, files_hash):
            fresh.add(current.submission)
        else:
            replaced += _replacements_of(current, runs, course_fingerprint, seed, exercise_ids, files_hash)
    return fresh, _plan(record, list(runs.values()), replaced, course_title=course_title,
                        course_fingerprint=course_fingerprint, seed=seed)


def plan_run(record: ClassRecord, *, course_title: str, course_fingerprint: str, seed: int,
             exercise_ids: Sequence[str], pending: Mapping[str, str]) -> RunPlan:
    """What grading ``pending`` (submission name -> files hash) on
    ``exercise_ids`` would replace (``replacements``, counted). Pure reading:
    nothing is written.

    Refused (see ``check_plan``): grading into the record of another course
    (another title), and replacing results graded with another seed (every
    score could move for reasons that are not the students'). A new version
    of the same course (same title, new fingerprint) is a note: the run
    records it and history shows it.
    """
    found = replacements(record, course_fingerprint=course_fingerprint, seed=seed, exercise_ids=exercise_ids,
                         pending=pending)
    return _plan(record, record.runs(), found, course_title=course_title, course_fingerprint=course_fingerprint,
                 seed=seed)


def _plan(record: ClassRecord, runs: Sequence[Run], found: Iterable[Replacement], *, course_title: str,
          course_fingerprint: str, seed: int) -> RunPlan:
    refusals: list[str] = []
    notes: list[str] = []
    titles = sorted({r.course_title for r in runs} - {course_title})
    if titles:
        held = sorted(c.submission for c in record.each_current(brief=True))
        refusals.append(f"{record.path} holds the results of another course ({', '.join(map(repr, titles))}), "
                        f"not of {course_title!r}: {counted(len(held), 'submission')}, {_listing(held)}")
    versions = {r.course_fingerprint for r in runs if r.course_title == course_title}
    if versions and course_fingerprint not in versions:
        notes.append(f"the course changed since the last run (course.toml, a suite or a solution): "
                     f"this run records course version {course_fingerprint[:12]}")
    replaced = 0
    reseeded: dict[str, int] = {}  # submission -> its results graded with another seed
    for replacement in found:
        replaced += 1
        if Why.NEW_SEED in replacement.why:
            reseeded[replacement.submission] = reseeded.get(replacement.submission, 0) + 1
    if reseeded:
        refusals.append(f"it would replace {counted(sum(reseeded.values()), 'result')} graded with another seed "
                        f"than {seed}: " + _listing(sorted(reseeded)))
    return RunPlan(replaced=replaced, refusals=tuple(refusals), notes=tuple(notes))


def replacements(record: ClassRecord, *, course_fingerprint: str, seed: int, exercise_ids: Sequence[str],
                 pending: Mapping[str, str]) -> Iterator[Replacement]:
    """Each current result that grading ``pending`` on ``exercise_ids`` would replace, and why."""
    runs = {r.id: r for r in record.runs()}
    for current in record.each_current(include_removed=True, brief=True):
        if current.submission in pending:
            yield from _replacements_of(current, runs, course_fingerprint, seed, exercise_ids,
                                        pending[current.submission])


def _replacements_of(current: Current, runs: Mapping[int, Run], fingerprint: str, seed: int,
                     exercise_ids: Sequence[str], files_hash: str) -> Iterator[Replacement]:
    wanted = set(exercise_ids)
    for exercise in current.result.exercises:
        if exercise.exercise_id in wanted:
            run = runs[current.run_ids[exercise.exercise_id]]
            why = _why(current, run, exercise, files_hash, fingerprint, seed)
            yield Replacement(current.submission, exercise.exercise_id, run.id, why)


def _why(current: Current, run: Run, exercise: ExerciseResult, files_hash: str, fingerprint: str,
         seed: int) -> tuple[Why, ...]:
    recorded = current.files_hashes[exercise.exercise_id]
    found = {
        Why.RESTORED: current.status is Status.REMOVED,
        Why.FILES_UNKNOWN: not recorded,
        Why.NEW_FILES: bool(recorded) and recorded != files_hash,
        Why.NEW_COURSE: run.course_fingerprint not in (fingerprint, ADOPTED),
        Why.NEW_SEED: exercise.seed != seed,
        Why.GRADER_FAILED: current.exercise_status.get(exercise.exercise_id) is Status.GRADER_FAILED,
    }
    return tuple(why for why, applies in found.items() if applies) or (Why.UNCHANGED,)


def check_plan(plan: RunPlan, *, force: bool = False) -> RunPlan:
    """Raise ``RecordRefused`` (every reason, in plain words) unless ``force``."""
    if plan.refused and not force:
        raise RecordRefused("Refusing to grade into this OUT: " + "; ".join(plan.refusals)
                            + ". Nothing was changed. Run again with --force to go ahead "
                            "(earlier results stay in the record's history).")
    return plan


def up_to_date(record: ClassRecord, *, course_fingerprint: str, seed: int, exercise_ids: Sequence[str],
               hashes: Mapping[str, str]) -> set[str]:
    """The submissions ``--resume`` may skip: every exercise asked for has a
    current result with these files, this course version and this seed, and
    none where the grader failed. A removed submission back in the folder with
    the same files is up to date too: restored, not graded again."""
    runs = {r.id: r for r in record.runs()}
    return {current.submission for current in record.each_current(brief=True, include_removed=True)
            if current.submission in hashes
            and _fresh(current, runs, course_fingerprint, seed, exercise_ids, hashes[current.submission])}


def _fresh(current: Current, runs: Mapping[int, Run], fingerprint: str, seed: int, exercise_ids: Sequence[str],
           files_hash: str) -> bool:
    by_id = {e.exercise_id: e for e in current.result.exercises}
    return all(i in by_id and by_id[i].seed == seed and current.files_hashes[i] == files_hash
               and runs[current.run_ids[i]].course_fingerprint == fingerprint
               and current.graded_status[i] is not Status.GRADER_FAILED for i in exercise_ids)


def _listing(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
