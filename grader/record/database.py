"""The class record in ``OUT/gradebook.sqlite``: every run, every result, by hand adjustments, exports.

One sqlite3 file (WAL mode, so a reader never blocks the batch writing),
with a schema versioned by ``PRAGMA user_version`` and migrated by the list
``MIGRATIONS``. Nothing is ever overwritten: a re-grade adds a grading, and
the *current* result of (submission, exercise) is the one from the latest run
that graded it, so grading a subset (some exercises, some submissions)
replaces exactly that. Each submission's grading is written in one
transaction: an interrupted batch loses at most the submissions in flight.

A batch calls, in order: ``ClassRecord.open(out)``; ``plan_run(...)`` and
``check_plan(plan, force=...)`` before grading; ``begin_run(...)``;
``restore(names, ...)`` for removed entries back in SUBMISSIONS;
``store(run_id, result, files_hash=...)`` as each submission finishes;
``prune(names, ...)`` only when asked (``--prune``) and ``finish_run(run_id)``;
then the views (``grader.record.views``). A submission leaves the current
results only by ``remove``/``prune``, never because a folder held fewer
entries; every removal and restore is in ``roll_events``, which history shows.
"""
from __future__ import annotations

import errno
import itertools
import json
import secrets
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader import scoring
from grader.errors import UserError
from grader.record.status import Status, exercise_status, refusal, submission_status
from grader.results import ExerciseResult, MismatchRow, SandboxStatus, SubmissionResult, TestResult
from grader.verdicts import Verdict

DATABASE_FILE = "gradebook.sqlite"
BUSY_TIMEOUT_MS = 10_000  # another process (a second batch, a reader) holding the write lock

# Each entry takes the schema from version n to n + 1; never edit one that shipped, add another.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        started_at TEXT NOT NULL,          -- UTC, ISO 8601
        finished_at TEXT,                  -- NULL while running, or if interrupted
        grader_version TEXT NOT NULL,
        seed INTEGER NOT NULL,
        course_title TEXT NOT NULL,
        course_fingerprint TEXT NOT NULL,  -- grader.record.fingerprint.course_fingerprint
        exercises TEXT NOT NULL,           -- JSON list of the exercise ids asked for
        forced INTEGER NOT NULL DEFAULT 0  -- run with --force over a refusal
    );
    CREATE TABLE submissions (
        name TEXT PRIMARY KEY,             -- the entry's name in SUBMISSIONS
        removed_at TEXT                    -- set while the entry is gone from SUBMISSIONS
    );
    CREATE TABLE gradings (                -- one submission graded in one run
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        submission TEXT NOT NULL REFERENCES submissions(name),
        graded_at TEXT NOT NULL,
        files_hash TEXT NOT NULL,          -- grader.record.fingerprint.files_hash of the entry
        status TEXT NOT NULL,              -- grader.record.status.Status
        reason TEXT,                       -- why refused / not graded, in plain words
        seed INTEGER NOT NULL,
        elapsed_s REAL NOT NULL,
        sandbox TEXT NOT NULL,             -- JSON: walls and missing walls
        UNIQUE (run_id, submission)
    );
    CREATE TABLE exercise_results (
        grading_id INTEGER NOT NULL REFERENCES gradings(id) ON DELETE CASCADE,
        exercise_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        title TEXT NOT NULL,
        points REAL NOT NULL,
        max_points REAL NOT NULL,
        status TEXT NOT NULL,
        reason TEXT,
        submitted INTEGER NOT NULL,
        problem TEXT,
        output TEXT NOT NULL,
        notes TEXT NOT NULL,               -- JSON list
        scope TEXT NOT NULL,
        seed INTEGER NOT NULL,
        PRIMARY KEY (grading_id, exercise_id)
    );
    CREATE TABLE test_results (
        grading_id INTEGER NOT NULL,
        exercise_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        title TEXT NOT NULL,
        passed INTEGER NOT NULL,
        points REAL NOT NULL,
        max_points REAL NOT NULL,
        verdict TEXT,
        message TEXT NOT NULL,
        hint TEXT,
        visibility TEXT NOT NULL,
        mismatches TEXT NOT NULL,          -- JSON list of MismatchRow
        PRIMARY KEY (grading_id, exercise_id, position),
        FOREIGN KEY (grading_id, exercise_id) REFERENCES exercise_results(grading_id, exercise_id) ON DELETE CASCADE
    );
    CREATE TABLE overrides (
        id INTEGER PRIMARY KEY,
        submission TEXT NOT NULL,
        exercise_id TEXT NOT NULL,
        points REAL NOT NULL,              -- the exercise's points, set by hand
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        removed_at TEXT                    -- NULL while in force
    );
    CREATE UNIQUE INDEX one_override_in_force ON overrides(submission, exercise_id) WHERE removed_at IS NULL;
    CREATE TABLE exports (
        id INTEGER PRIMARY KEY,
        exported_at TEXT NOT NULL,
        format TEXT NOT NULL,              -- canvas, moodle, csv
        assignment TEXT NOT NULL,
        path TEXT NOT NULL,
        changed_only INTEGER NOT NULL
    );
    CREATE TABLE export_rows (
        export_id INTEGER NOT NULL REFERENCES exports(id),
        submission TEXT NOT NULL,
        value TEXT NOT NULL,               -- what the file said for this submission
        PRIMARY KEY (export_id, submission)
    );
    CREATE INDEX gradings_by_submission ON gradings(submission, run_id);
    """,
    # Similarity across the class (grader.record.similarity): each exercise result's answer marks, and the
    # pairs each `grade similar` found.
    """
    CREATE TABLE answer_marks (
        grading_id INTEGER NOT NULL,
        exercise_id TEXT NOT NULL,
        marks TEXT NOT NULL,               -- JSON list: ExerciseResult.answers
        PRIMARY KEY (grading_id, exercise_id),
        FOREIGN KEY (grading_id, exercise_id) REFERENCES exercise_results(grading_id, exercise_id) ON DELETE CASCADE
    );
    CREATE TABLE similarity_runs (
        id INTEGER PRIMARY KEY,
        computed_at TEXT NOT NULL,
        threshold REAL NOT NULL,
        submissions TEXT                   -- the folder whose sources were compared (NULL: answers only)
    );
    CREATE TABLE similar_pairs (
        similarity_run_id INTEGER NOT NULL REFERENCES similarity_runs(id),
        exercise_id TEXT NOT NULL,
        a TEXT NOT NULL,
        b TEXT NOT NULL,
        score REAL NOT NULL,
        code_score REAL NOT NULL,
        behaviour_score REAL NOT NULL,
        code_evidence TEXT NOT NULL,
        behaviour_evidence TEXT NOT NULL,
        PRIMARY KEY (similarity_run_id, exercise_id, a, b)
    );
    """,
    """
    CREATE TABLE roll_events (             -- a submission leaving the class record's current results, or back
        id INTEGER PRIMARY KEY,
        submission TEXT NOT NULL REFERENCES submissions(name),
        at TEXT NOT NULL,                  -- UTC, ISO 8601
        event TEXT NOT NULL CHECK (event IN ('removed', 'restored')),
        run_id INTEGER REFERENCES runs(id),  -- the run that did it; NULL for a command
        reason TEXT NOT NULL
    );
    INSERT INTO roll_events (submission, at, event, reason)
        SELECT name, removed_at, 'removed', 'no longer in the submissions folder (recorded before history kept it)'
        FROM submissions WHERE removed_at IS NOT NULL;
    """,
)
REMOVED, RESTORED = "removed", "restored"  # roll_events.event
SCHEMA_VERSION = len(MIGRATIONS)

# Each submission's latest result of each exercise (age 1), whichever run graded it; one row per exercise.
_CURRENT_ROWS = (
    "SELECT e.*, g.submission, g.run_id, g.files_hash, g.seed AS grading_seed, g.sandbox, g.elapsed_s,"
    " s.removed_at, ROW_NUMBER() OVER (PARTITION BY g.submission, e.exercise_id ORDER BY g.run_id DESC, g.id DESC)"
    " AS age FROM exercise_results e JOIN gradings g ON g.id = e.grading_id"
    " JOIN submissions s ON s.name = g.submission")
_BRIEF_TEST_COLUMNS = "name, title, max_points, passed, verdict, hint, visibility"
_BY_NAME = "by_name"  # a collation: names as sort_key orders them, case-insensitively, then exactly


def _by_name(left: str, right: str) -> int:
    a, b = (left.casefold(), left), (right.casefold(), right)
    return (a > b) - (a < b)
ADOPTED = "unknown (adopted from results.json)"  # grader version and course fingerprint of an adopted run


class RecordError(UserError):
    """A problem with the class record a user can fix (plain words, no traceback, exit 2)."""


class RecordFull(RecordError):
    """One submission's result could not be stored: the disk under OUT is full. Its transaction was
    rolled back, so everything stored before stays as it was, readable and exportable."""

    def __init__(self, submission: str, error: BaseException) -> None:
        super().__init__(f"the result of {submission!r} could not be stored in the class record: the disk is "
                         f"full ({error}); everything stored before is kept. Free some space, then run "
                         "`grade batch --resume` to grade what is missing")
        self.submission = submission


class RecordRefused(RecordError):
    """The run would replace results of another course (or with another seed); ``--force`` to go ahead."""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Run:
    id: int
    started_at: str
    finished_at: str | None
    grader_version: str
    seed: int
    course_title: str
    course_fingerprint: str
    exercises: tuple[str, ...]
    forced: bool


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

    def points(self, exercise_id: str) -> float | None:
        """Effective points: the override if any; None where there is no score (grader failed, removed)."""
        if exercise_id in self.overrides:
            return self.overrides[exercise_id].points
        if self.exercise_status.get(exercise_id) in (Status.GRADER_FAILED, Status.REMOVED, None):
            return None
        return self.graded_points(exercise_id)

    @property
    def total(self) -> float | None:
        """Effective total; None while any exercise has no score and no override."""
        points = [self.points(e.exercise_id) for e in self.result.exercises]
        known = [p for p in points if p is not None]
        return scoring.total(known) if len(known) == len(points) else None

    @property
    def max_total(self) -> float:
        return self.result.max_score


@dataclass(frozen=True)
class Replacement:
    """A current result that a planned run would grade again, and why."""

    submission: str
    exercise_id: str
    run_id: int
    why: tuple[str, ...]  # "new submission files", "new course version", "new seed", ...


@dataclass(frozen=True)
class RunPlan:
    replaced: int  # current results the run would grade again (``replacements`` says which and why)
    refusals: tuple[str, ...]  # each a sentence: why the run must not go ahead without --force
    notes: tuple[str, ...]  # worth saying, not a reason to stop (a new course version)

    @property
    def refused(self) -> bool:
        return bool(self.refusals)


class ClassRecord(AbstractContextManager["ClassRecord"]):
    """``OUT/gradebook.sqlite``, opened and migrated. Use as a context manager
    (``with ClassRecord.open(out) as record:``); leaving it closes the connection."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = connection, path

    # -- opening -----------------------------------------------------------
    @classmethod
    def open(cls, out: Path) -> "ClassRecord":
        """Open (creating OUT and the database if needed) and migrate to ``SCHEMA_VERSION``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / DATABASE_FILE
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.create_collation(_BY_NAME, _by_name)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            migrate(connection)
        except sqlite3.DatabaseError as error:
            raise RecordError(f"{path} is not a class record torchgrade can read ({error})") from None
        return cls(connection, path)

    def close(self) -> None:
        self.db.close()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    # -- runs --------------------------------------------------------------
    def begin_run(self, *, grader_version: str, seed: int, course_title: str, course_fingerprint: str,
                  exercise_ids: Sequence[str], forced: bool = False) -> int:
        with _transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO runs (started_at, grader_version, seed, course_title, course_fingerprint, exercises,"
                " forced) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now(), grader_version, seed, course_title, course_fingerprint, json.dumps(list(exercise_ids)),
                 int(forced)))
        return _row_id(cursor)

    def finish_run(self, run_id: int) -> None:
        with _transaction(self.db):
            self.db.execute("UPDATE runs SET finished_at = ? WHERE id = ?", (now(), run_id))

    def runs(self) -> list[Run]:
        return [_run(row) for row in self.db.execute("SELECT * FROM runs ORDER BY id")]

    def run(self, run_id: int) -> Run:
        row = self.db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RecordError(f"no run {run_id} in {self.path}")
        return _run(row)

    def exercise_order(self) -> list[str]:
        """The exercises in course order: that of the latest run asking for the
        most of them (a subset run's order would put its exercises first), then
        any other exercise ever asked for."""
        runs = self.runs()
        if not runs:
            return []
        order = list(max(runs, key=lambda r: (len(r.exercises), r.id)).exercises)
        return order + [e for r in runs for e in r.exercises if e not in order]

    def latest_run(self) -> Run | None:
        row = self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        return _run(row) if row else None

    # -- results -----------------------------------------------------------
    def store(self, run_id: int, result: SubmissionResult, *, files_hash: str, refused: str | None = None) -> int:
        """Record one submission's result in one transaction; returns its grading id.
        ``refused``: why the entry was refused (``Submission.problem``), if known;
        otherwise it is read from the result (see ``status.refusal``)."""
        refused = refused if refused is not None else refusal(result)
        statuses = [exercise_status(e, refused) for e in result.exercises]
        status, reason = submission_status(result, refused)
        try:
            return self._store(run_id, result, files_hash, statuses, status, reason)
        except (sqlite3.Error, OSError) as error:
            if is_disk_full(error):
                raise RecordFull(result.submission, error) from None
            raise

    def _store(self, run_id: int, result: SubmissionResult, files_hash: str,
               statuses: list[tuple[Status, str | None]], status: Status, reason: str | None) -> int:
        with _transaction(self.db):
            was_removed = self.db.execute("SELECT removed_at FROM submissions WHERE name = ?",
                                          (result.submission,)).fetchone()
            if was_removed is not None and was_removed[0] is not None:
                self._roll_event(result.submission, RESTORED, now(), run_id, "graded again")
            self.db.execute("INSERT INTO submissions (name) VALUES (?)"
                            " ON CONFLICT(name) DO UPDATE SET removed_at = NULL", (result.submission,))
            cursor = self.db.execute(
                "INSERT INTO gradings (run_id, submission, graded_at, files_hash, status, reason, seed, elapsed_s,"
                " sandbox) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, submission) DO NOTHING",
                (run_id, result.submission, now(), files_hash, status.value, reason, result.seed, result.elapsed_s,
                 json.dumps(asdict(result.sandbox))))
            if cursor.rowcount == 0:  # graded again in the same run (a retried worker): the last one stands
                grading_id = self.db.execute("SELECT id FROM gradings WHERE run_id = ? AND submission = ?",
                                             (run_id, result.submission)).fetchone()[0]
                self.db.execute("DELETE FROM test_results WHERE grading_id = ?", (grading_id,))
                self.db.execute("DELETE FROM answer_marks WHERE grading_id = ?", (grading_id,))
                self.db.execute("DELETE FROM exercise_results WHERE grading_id = ?", (grading_id,))
                self.db.execute("UPDATE gradings SET graded_at = ?, files_hash = ?, status = ?, reason = ?, seed = ?,"
                                " elapsed_s = ?, sandbox = ? WHERE id = ?",
                                (now(), files_hash, status.value, reason, result.seed, result.elapsed_s,
                                 json.dumps(asdict(result.sandbox)), grading_id))
            else:
                grading_id = _row_id(cursor)
            for position, (exercise, (ex_status, ex_reason)) in enumerate(zip(result.exercises, statuses, strict=True)):
                self.db.execute(
                    "INSERT INTO exercise_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (grading_id, exercise.exercise_id, position, exercise.title, exercise.score, exercise.max_score,
                     ex_status.value, ex_reason, int(exercise.submitted), exercise.problem, exercise.output,
                     json.dumps(list(exercise.notes)), exercise.scope, exercise.seed))
                self.db.executemany(
                    "INSERT INTO test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(grading_id, exercise.exercise_id, n, t.name, t.title, int(t.passed), t.points, t.max_points,
                      t.verdict.value if t.verdict else None, t.message, t.hint, t.visibility,
                      json.dumps([asdict(row) for row in t.table])) for n, t in enumerate(exercise.tests)])
            self.db.executemany("INSERT INTO answer_marks VALUES (?, ?, ?)",
                                [(grading_id, e.exercise_id, json.dumps(list(e.answers)))
                                 for e in result.exercises if e.answers])
        return grading_id

    def adopt(self, results: Sequence[SubmissionResult], *, course_title: str,
              files_hashes: Mapping[str, str] | None = None) -> int | None:
        """Take in the ``results.json`` results of an OUT graded before it had a
        record, as one run (course version and grader version unknown), so a
        subset re-grade keeps them. ``files_hashes``: the entries' hashes where
        the results are known to be newer than the files (else "", never up to
        date). Does nothing (None) if the record already holds a run."""
        if self.runs() or not results:
            return None
        order = list(dict.fromkeys(e.exercise_id for r in results for e in r.exercises))
        run_id = self.begin_run(grader_version=ADOPTED, seed=results[0].seed, course_title=course_title,
                                course_fingerprint=ADOPTED, exercise_ids=order)
        for result in results:
            self.store(run_id, result, files_hash=(files_hashes or {}).get(result.submission, ""))
        self.finish_run(run_id)
        return run_id

    def prune(self, listed: Iterable[str], *, run_id: int | None, reason: str) -> list[str]:
        """Remove from the current results every recorded submission not in
        ``listed`` (kept in the record, shown as removed, each removal in
        history). Only on request (``grade batch --prune``): a folder holding
        fewer entries never removes anyone by itself. Returns the names removed."""
        keep = set(listed)
        return self.remove([n for n in self.current_names() if n not in keep], run_id=run_id, reason=reason)

    def remove(self, names: Iterable[str], *, run_id: int | None, reason: str) -> list[str]:
        """Mark ``names`` removed (those current), each removal recorded; returns them, sorted."""
        current = set(self.current_names())
        gone = sorted(n for n in set(names) if n in current)
        stamp = now()
        with _transaction(self.db):
            for name in gone:
                self.db.execute("UPDATE submissions SET removed_at = ? WHERE name = ?", (stamp, name))
                self._roll_event(name, REMOVED, stamp, run_id, reason)
        return gone

    def restore(self, names: Iterable[str], *, run_id: int | None, reason: str) -> list[str]:
        """Make removed ``names`` current again, each restore recorded; returns them, sorted."""
        removed = set(self.removed())
        back = sorted(n for n in set(names) if n in removed)
        stamp = now()
        with _transaction(self.db):
            for name in back:
                self.db.execute("UPDATE submissions SET removed_at = NULL WHERE name = ?", (name,))
                self._roll_event(name, RESTORED, stamp, run_id, reason)
        return back

    def _roll_event(self, name: str, event: str, at: str, run_id: int | None, reason: str) -> None:
        self.db.execute("INSERT INTO roll_events (submission, at, event, run_id, reason) VALUES (?, ?, ?, ?, ?)",
                        (name, at, event, run_id, reason))

    def roll_events(self, submission: str | None = None) -> list[sqlite3.Row]:
        """Every removal and restore, oldest first (for history)."""
        if submission is None:
            return self.db.execute("SELECT * FROM roll_events ORDER BY id").fetchall()
        return self.db.execute("SELECT * FROM roll_events WHERE submission = ? ORDER BY id",
                               (submission,)).fetchall()

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
            f"SELECT * FROM ({_CURRENT_ROWS}{where}) WHERE age = 1{kept} ORDER BY submission COLLATE {_BY_NAME}",
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
            f"SELECT exercise_id, MAX(max_points) FROM ({_CURRENT_ROWS}) WHERE age = 1{kept} GROUP BY exercise_id")}

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
        exercises = tuple(self._exercise(row, brief=brief) for row in rows)
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
            status, reason = _combined_status(rows)
        return Current(submission=name, result=result, status=status, reason=reason, exercise_status=statuses,
                       overrides={e: o for (s, e), o in overrides.items() if s == name and e in statuses},
                       files_hash=latest["files_hash"], run_ids={row["exercise_id"]: row["run_id"] for row in rows},
                       files_hashes={row["exercise_id"]: row["files_hash"] for row in rows}, graded_status=graded)

    def _exercise(self, row: sqlite3.Row, *, brief: bool = False) -> ExerciseResult:
        columns = _BRIEF_TEST_COLUMNS if brief else "*"
        tests = tuple(
            TestResult(name=t["name"], title=t["title"], max_points=t["max_points"], passed=bool(t["passed"]),
                       message="" if brief else t["message"], hint=t["hint"],
                       verdict=Verdict(t["verdict"]) if t["verdict"] else None,
                       table=() if brief else tuple(MismatchRow(**m) for m in json.loads(t["mismatches"])),
                       visibility=t["visibility"])
            for t in self.db.execute(f"SELECT {columns} FROM test_results WHERE grading_id = ? AND exercise_id = ?"
                                     " ORDER BY position", (row["grading_id"], row["exercise_id"])))
        return ExerciseResult(exercise_id=row["exercise_id"], title=row["title"], tests=tests, seed=row["seed"],
                              submitted=bool(row["submitted"]), problem=row["problem"],
                              output="" if brief else row["output"], notes=tuple(json.loads(row["notes"])),
                              scope=row["scope"])

    def gradings(self, submission: str | None = None) -> list[sqlite3.Row]:
        """Every grading with its exercises (one row per exercise), oldest first: history reads these."""
        query = ("SELECT g.submission, g.run_id, g.graded_at, g.files_hash, g.seed, e.exercise_id, e.points,"
                 " e.max_points, e.status, e.reason, r.course_fingerprint, r.grader_version FROM gradings g"
                 " JOIN exercise_results e ON e.grading_id = g.id JOIN runs r ON r.id = g.run_id")
        if submission is None:
            return self.db.execute(query + " ORDER BY g.run_id, g.id, e.position").fetchall()
        return self.db.execute(query + " WHERE g.submission = ? ORDER BY g.run_id, g.id, e.position",
                               (submission,)).fetchall()

    # -- overrides ---------------------------------------------------------
    def set_override(self, submission: str, exercise_id: str, points: float, reason: str) -> Override:
        """Set ``exercise_id``'s points for ``submission`` by hand (replacing an
        override in force). It outlives re-grades until ``remove_override``."""
        if not reason.strip():
            raise RecordError("an override needs a reason (--reason TEXT): the student and the exports show it")
        record = self.current_of(submission)
        exercise = next((e for e in record.result.exercises if e.exercise_id == exercise_id), None)
        if exercise is None:
            known = ", ".join(e.exercise_id for e in record.result.exercises)
            raise RecordError(f"{submission} has no result for {exercise_id!r} (it has: {known})")
        if not 0 <= points <= exercise.max_score:
            raise RecordError(f"{points:g} points is outside 0 … {exercise.max_score:g}, "
                              f"the points {exercise_id} is worth")
        stamp = now()
        with _transaction(self.db):
            self.db.execute("UPDATE overrides SET removed_at = ? WHERE submission = ? AND exercise_id = ?"
                            " AND removed_at IS NULL", (stamp, submission, exercise_id))
            self.db.execute("INSERT INTO overrides (submission, exercise_id, points, reason, created_at)"
                            " VALUES (?, ?, ?, ?, ?)", (submission, exercise_id, float(points), reason.strip(), stamp))
        return Override(submission, exercise_id, float(points), reason.strip(), stamp)

    def remove_override(self, submission: str, exercise_id: str) -> Override:
        """End the override in force; the grader's points count again."""
        override = self.overrides().get((submission, exercise_id))
        if override is None:
            raise RecordError(f"{submission} has no override on {exercise_id}")
        with _transaction(self.db):
            self.db.execute("UPDATE overrides SET removed_at = ? WHERE submission = ? AND exercise_id = ?"
                            " AND removed_at IS NULL", (now(), submission, exercise_id))
        return override

    def overrides(self) -> dict[tuple[str, str], Override]:
        """The overrides in force, by (submission, exercise)."""
        return {(row["submission"], row["exercise_id"]): _override(row) for row in self.db.execute(
            "SELECT * FROM overrides WHERE removed_at IS NULL ORDER BY id")}

    def override_events(self, submission: str | None = None) -> list[sqlite3.Row]:
        """Every override ever set, with when it was removed (for history)."""
        if submission is None:
            return self.db.execute("SELECT * FROM overrides ORDER BY id").fetchall()
        return self.db.execute("SELECT * FROM overrides WHERE submission = ? ORDER BY id", (submission,)).fetchall()

    # -- exports -----------------------------------------------------------
    def record_export(self, *, format: str, assignment: str, path: Path, changed_only: bool,
                      values: Mapping[str, str]) -> int:
        """Remember what an export said per submission, so the next can write only changes."""
        with _transaction(self.db):
            cursor = self.db.execute("INSERT INTO exports (exported_at, format, assignment, path, changed_only)"
                                     " VALUES (?, ?, ?, ?, ?)", (now(), format, assignment, str(path),
                                                                  int(changed_only)))
            export_id = _row_id(cursor)
            self.db.executemany("INSERT INTO export_rows VALUES (?, ?, ?)",
                                [(export_id, name, value) for name, value in values.items()])
        return export_id

    def last_exported(self, *, format: str, assignment: str) -> dict[str, str]:
        """What the exports of ``format``/``assignment`` last said per submission."""
        rows = self.db.execute(
            "SELECT r.submission, r.value FROM export_rows r JOIN exports x ON x.id = r.export_id"
            " WHERE x.format = ? AND x.assignment = ? ORDER BY x.id", (format, assignment))
        return {row["submission"]: row["value"] for row in rows}  # later exports overwrite earlier ones


def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION``, one migration per transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RecordError(f"the class record has schema version {version}, newer than this grader's "
                          f"{SCHEMA_VERSION}: upgrade torchgrade")
    for number in range(version, SCHEMA_VERSION):
        with _transaction(connection):
            # Read again under the write lock: another process opening this OUT at the same time may have
            # taken it first and migrated already.
            if connection.execute("PRAGMA user_version").fetchone()[0] > number:
                continue
            for statement in _statements(MIGRATIONS[number]):
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {number + 1}")
    return SCHEMA_VERSION


def _statements(script: str) -> list[str]:
    # executescript() would commit on its own; split so each migration is one transaction.
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line.split("--", 1)[0] + ("\n" if "--" in line else "")
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    return [s for s in statements if s]


class _transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on any error): one writer at a time,
    and a crash halfway leaves nothing half-written."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def __enter__(self) -> None:
        self.connection.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        if kind is None:
            try:
                self.connection.execute("COMMIT")  # where a full disk shows in WAL mode
                return
            except sqlite3.Error:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise
        self.connection.execute("ROLLBACK")


_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_SQLITE_FULL = 13  # sqlite3.SQLITE_FULL, named in the module only from Python 3.11


def is_disk_full(error: BaseException) -> bool:
    """Whether ``error`` says the disk (or the user's quota) under OUT is full."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL or "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in _DISK_FULL_ERRNOS


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # after an INSERT that inserted
    return cursor.lastrowid


def _run(row: sqlite3.Row) -> Run:
    return Run(id=row["id"], started_at=row["started_at"], finished_at=row["finished_at"],
               grader_version=row["grader_version"], seed=row["seed"], course_title=row["course_title"],
               course_fingerprint=row["course_fingerprint"], exercises=tuple(json.loads(row["exercises"])),
               forced=bool(row["forced"]))


def _override(row: sqlite3.Row) -> Override:
    return Override(row["submission"], row["exercise_id"], row["points"], row["reason"], row["created_at"])


def _combined_status(rows: Sequence[sqlite3.Row]) -> tuple[Status, str | None]:
    """A submission's status from its exercises' current statuses (which may come from different runs)."""
    for wanted in (Status.GRADER_FAILED, Status.REFUSED, Status.GRADED):
        for row in rows:
            if row["status"] == wanted.value:
                return wanted, row["reason"]
    return Status.NOT_SUBMITTED, None


# ---------------------------------------------------------------------------
# Before a run: what it would replace, and whether it may
# ---------------------------------------------------------------------------
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
    runs = record.runs()
    refusals: list[str] = []
    notes: list[str] = []
    titles = sorted({r.course_title for r in runs} - {course_title})
    if titles:
        held = sorted(c.submission for c in record.each_current(brief=True))
        refusals.append(f"{record.path} holds the results of another course ({', '.join(map(repr, titles))}), "
                        f"not of {course_title!r}: {len(held)} submission(s), {_listing(held)}")
    versions = {r.course_fingerprint for r in runs if r.course_title == course_title}
    if versions and course_fingerprint not in versions:
        notes.append(f"the course changed since the last run (course.toml, a suite or a solution): "
                     f"this run records course version {course_fingerprint[:12]}")
    replaced = 0
    reseeded: dict[str, int] = {}  # submission -> its results graded with another seed
    for replacement in replacements(record, course_fingerprint=course_fingerprint, seed=seed,
                                    exercise_ids=exercise_ids, pending=pending):
        replaced += 1
        if "new seed" in replacement.why:
            reseeded[replacement.submission] = reseeded.get(replacement.submission, 0) + 1
    if reseeded:
        refusals.append(f"it would replace {sum(reseeded.values())} result(s) graded with another seed than {seed}: "
                        + _listing(sorted(reseeded)))
    return RunPlan(replaced=replaced, refusals=tuple(refusals), notes=tuple(notes))


def replacements(record: ClassRecord, *, course_fingerprint: str, seed: int, exercise_ids: Sequence[str],
                 pending: Mapping[str, str]) -> Iterator[Replacement]:
    """Each current result that grading ``pending`` on ``exercise_ids`` would replace, and why."""
    run_by_id = {r.id: r for r in record.runs()}
    wanted = set(exercise_ids)
    for current in record.each_current(include_removed=True, brief=True):
        if current.submission not in pending:
            continue
        for exercise in current.result.exercises:
            if exercise.exercise_id not in wanted:
                continue
            run = run_by_id[current.run_ids[exercise.exercise_id]]
            why = _why(current, run, exercise, pending[current.submission], course_fingerprint, seed)
            yield Replacement(current.submission, exercise.exercise_id, run.id, why)


def _why(current: Current, run: Run, exercise: ExerciseResult, files_hash: str, fingerprint: str,
         seed: int) -> tuple[str, ...]:
    why = []
    if current.status is Status.REMOVED:
        why.append("submission back in the folder")
    if not current.files_hashes[exercise.exercise_id]:
        why.append("files not recorded before")
    elif current.files_hashes[exercise.exercise_id] != files_hash:
        why.append("new submission files")
    if run.course_fingerprint not in (fingerprint, ADOPTED):
        why.append("new course version")
    if exercise.seed != seed:
        why.append("new seed")
    if current.exercise_status.get(exercise.exercise_id) is Status.GRADER_FAILED:
        why.append("the grader failed last time")
    return tuple(why) or ("graded again, nothing changed",)


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
    fresh = set()
    for current in record.each_current(brief=True, include_removed=True):
        if current.submission not in hashes:
            continue
        by_id = {e.exercise_id: e for e in current.result.exercises}
        if all(i in by_id and by_id[i].seed == seed and current.files_hashes[i] == hashes[current.submission]
               and runs[current.run_ids[i]].course_fingerprint == course_fingerprint
               and current.graded_status[i] is not Status.GRADER_FAILED for i in exercise_ids):
            fresh.add(current.submission)
    return fresh


def _listing(names: Sequence[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")
