"""The class record's current state: each submission's latest result of each exercise.

The *current* result of (submission, exercise) is the one from the latest run
that graded it, so grading a subset (some exercises, some submissions)
replaces exactly that; a removed submission keeps its results, marked
``REMOVED``. ``Current`` is one submission's state, read as a
``SubmissionResult`` with the statuses stored as the results were made, the
overrides in force and the effective points (``grader.scoring``). Reading
streams the class one submission at a time.
"""
from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from grader import scoring
from grader.record.schema import BY_NAME, RecordError, Storage
from grader.results import (ExerciseResult, MismatchRow, SandboxStatus, SubmissionResult, TestResult,
                            curves_from_json)
from grader.status import Status, combined_status
from grader.verdicts import Verdict

# Each submission's latest result of each exercise (age 1), whichever run graded it; one row per exercise.
CURRENT_ROWS = (
    "SELECT e.*, g.submission, g.run_id, g.files_hash, g.seed AS grading_seed, g.sandbox, g.elapsed_s,"
    " s.removed_at, ROW_NUMBER() OVER (PARTITION BY g.submission, e.exercise_id ORDER BY g.run_id DESC, g.id DESC)"
    " AS age FROM exercise_results e JOIN gradings g ON g.id = e.grading_id"
    " JOIN submissions s ON s.name = g.submission")
_BRIEF_TEST_COLUMNS = "grading_id, exercise_id, name, title, max_points, passed, verdict, hint, visibility"
_UNSCORED = (Status.GRADER_FAILED, Status.REMOVED, None)  # an exercise without a score of the grader's


@dataclass(frozen=True)
class Override:
    submission: str
    exercise_id: str
    points: float
    reason: str
    created_at: str


@dataclass(frozen=True)
class Current:
    """A submission's current state: the latest result of each exercise (from
    whichever run graded it last), as one ``SubmissionResult``, with statuses,
    the overrides in force and the effective points."""

    submission: str
    result: SubmissionResult
    status: Status
    reason: str | None
    exercise_status: Mapping[str, Status]
    overrides: Mapping[str, Override] = field(default_factory=dict)
    files_hash: str = ""
    run_ids: Mapping[str, int] = field(default_factory=dict)  # exercise -> run that graded it
    files_hashes: Mapping[str, str] = field(default_factory=dict)  # exercise -> files it was graded on
    graded_status: Mapping[str, Status] = field(default_factory=dict)  # as graded, even while removed

    def graded_points(self, exercise_id: str) -> float:
        return next(e.score for e in self.result.exercises if e.exercise_id == exercise_id)

    def counted_points(self) -> dict[str, float]:
        """The points that count, by exercise (``scoring.effective_points``): the override if any, else the
        grader's; no entry where there is neither (the grader failed, the submission is removed)."""
        by_hand = {exercise_id: o.points for exercise_id, o in self.overrides.items()}
        graded = {e.exercise_id: e.score for e in self.result.exercises
                  if self.exercise_status.get(e.exercise_id) not in _UNSCORED}
        return {**by_hand, **scoring.effective_points(graded, by_hand)}

    def points(self, exercise_id: str) -> float | None:
        """Effective points: the override if any; None where there is no score (grader failed, removed)."""
        return self.counted_points().get(exercise_id)

    @property
    def total(self) -> float | None:
        """Effective total; None while any exercise has no score and no override."""
        counted = self.counted_points()
        if any(e.exercise_id not in counted for e in self.result.exercises):
            return None
        return scoring.total(counted.values())

    @property
    def max_total(self) -> float:
        return self.result.max_score



class CurrentState(Storage):
    """Reading the current state (every submission, or one) and the overrides in force."""

    def current_names(self) -> list[str]:
        """The submissions the record holds that are not removed."""
        return [row[0] for row in self.db.execute(
            "SELECT name FROM submissions WHERE removed_at IS NULL ORDER BY name")]

    def removed(self) -> list[str]:
        return [row[0] for row in self.db.execute(
            "SELECT name FROM submissions WHERE removed_at IS NOT NULL ORDER BY name")]

    def current(self, *, include_removed: bool = False, only: str | None = None) -> list[Current]:
        """Every submission's current state (or only that of the submission named
        ``only``: a batch reads one as each arrives), by name (case-insensitively)."""
        return list(self.each_current(include_removed=include_removed, only=only))

    def each_current(self, *, include_removed: bool = False, only: str | None = None,
                     brief: bool = False) -> Iterator[Current]:
        """``current``, one submission at a time, read from the database as it
        is consumed: a class of any size in the memory of one submission.
        ``brief``: tests without their messages and mismatch tables, exercises
        without their output (what the gradebook and the class summary use)."""
        where, parameters = (" WHERE g.submission = ?", (only,)) if only is not None else ("", ())
        kept = "" if include_removed else " AND removed_at IS NULL"
        rows = self.db.execute(
            f"SELECT * FROM ({CURRENT_ROWS}{where}) WHERE age = 1{kept} ORDER BY submission COLLATE {BY_NAME}",  # noqa: S608 - constants and fixed fragments; the name goes as a ? parameter
            parameters)
        order = {exercise_id: n for n, exercise_id in enumerate(self.exercise_order())}
        overrides = self.overrides()  # set by hand: a few
        for name, group in itertools.groupby(rows, key=lambda row: row["submission"]):
            exercise_rows = sorted(group, key=lambda r: (order.get(r["exercise_id"], len(order)), r["position"]))
            yield self._current(name, exercise_rows, overrides, brief=brief)

    def exercise_maxima(self, *, include_removed: bool = True) -> dict[str, float]:
        """Each exercise the current results hold, with its maximum points as they state it."""
        kept = "" if include_removed else " AND removed_at IS NULL"
        return {row[0]: row[1] for row in self.db.execute(
            f"SELECT exercise_id, MAX(max_points) FROM ({CURRENT_ROWS}) WHERE age = 1{kept} GROUP BY exercise_id")}  # noqa: S608 - a constant and a fixed fragment

    def names(self) -> set[str]:
        """Every submission the record holds a result of (removed ones too)."""
        return {row[0] for row in self.db.execute("SELECT DISTINCT submission FROM gradings")}

    def current_of(self, submission: str) -> Current:
        for record in self.current(include_removed=True, only=submission):
            if record.submission == submission:
                return record
        raise RecordError(f"no submission named {submission!r} in {self.path}")

    def _current(self, name: str, rows: list[sqlite3.Row], overrides: Mapping[tuple[str, str], Override], *,
                 brief: bool = False) -> Current:
        latest = max(rows, key=lambda r: r["run_id"])
        tests = self._tests(rows, brief=brief)
        exercises = tuple(self._exercise(row, tuple(tests[(row["grading_id"], row["exercise_id"])]), brief=brief)
                          for row in rows)
        statuses = graded = {row["exercise_id"]: Status(row["status"]) for row in rows}
        sandbox = json.loads(latest["sandbox"])
        result = SubmissionResult(submission=name, exercises=exercises, seed=latest["grading_seed"],
                                  sandbox=SandboxStatus(walls=tuple(sandbox["walls"]),
                                                        missing=tuple(sandbox["missing"])),
                                  elapsed_s=latest["elapsed_s"])
        removed = latest["removed_at"] is not None
        status: Status
        reason: str | None
        if removed:
            status, reason = Status.REMOVED, "no longer in the submissions folder"
            statuses = {key: Status.REMOVED for key in statuses}
        else:
            status, reason = combined_status((Status(row["status"]), row["reason"]) for row in rows)
        return Current(submission=name, result=result, status=status, reason=reason, exercise_status=statuses,
                       overrides={e: o for (s, e), o in overrides.items() if s == name and e in statuses},
                       files_hash=latest["files_hash"], run_ids={row["exercise_id"]: row["run_id"] for row in rows},
                       files_hashes={row["exercise_id"]: row["files_hash"] for row in rows}, graded_status=graded)

    def _tests(self, rows: list[sqlite3.Row], *, brief: bool) -> dict[tuple[int, str], list[TestResult]]:
        """The tests of the exercise results ``rows``, by (grading, exercise): one query for a submission."""
        columns = _BRIEF_TEST_COLUMNS if brief else "*"
        gradings = sorted({row["grading_id"] for row in rows})
        wanted = {(row["grading_id"], row["exercise_id"]) for row in rows}
        found: dict[tuple[int, str], list[TestResult]] = {key: [] for key in wanted}
        query = (f"SELECT {columns} FROM test_results WHERE grading_id IN ({', '.join('?' * len(gradings))})"  # noqa: S608 - placeholders only
                 " ORDER BY grading_id, exercise_id, position")
        for t in self.db.execute(query, gradings):
            key = (t["grading_id"], t["exercise_id"])
            if key in found:
                found[key].append(TestResult(
                    name=t["name"], title=t["title"], max_points=t["max_points"], passed=bool(t["passed"]),
                    message="" if brief else t["message"], hint=t["hint"],
                    verdict=Verdict(t["verdict"]) if t["verdict"] else None,
                    table=() if brief else tuple(MismatchRow(**m) for m in json.loads(t["mismatches"])),
                    curves=() if brief else curves_from_json(t["curves"]),
                    visibility=t["visibility"]))
        return found

    def _exercise(self, row: sqlite3.Row, tests: tuple[TestResult, ...], *, brief: bool = False) -> ExerciseResult:
        return ExerciseResult(exercise_id=row["exercise_id"], title=row["title"], tests=tests, seed=row["seed"],
                              status=Status(row["status"]), problem=row["problem"],
                              output="" if brief else row["output"], notes=tuple(json.loads(row["notes"])),
                              scope=row["scope"])

    def overrides(self) -> dict[tuple[str, str], Override]:
        """The overrides in force, by (submission, exercise)."""
        return {(row["submission"], row["exercise_id"]): _override(row) for row in self.db.execute(
            "SELECT * FROM overrides WHERE removed_at IS NULL ORDER BY id")}


def _override(row: sqlite3.Row) -> Override:
    return Override(row["submission"], row["exercise_id"], row["points"], row["reason"], row["created_at"])

