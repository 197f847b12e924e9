"""The class record's storage: ``OUT/gradebook.sqlite``, its schema, its runs.

One sqlite3 file (WAL mode, so a reader never blocks the batch writing),
with a schema versioned by ``PRAGMA user_version`` and migrated by the list
``MIGRATIONS``: each entry takes the schema from version n to n + 1, in one
transaction. A record newer than this grader is refused in plain words, never
read half. ``Storage`` opens, migrates and closes it and keeps the runs; the
layers above it (``current``, ``overrides``, ``database``) read and write
the rest. Every write is one ``transaction`` (BEGIN IMMEDIATE: one writer at
a time, ``BUSY_TIMEOUT_MS`` for another to finish).
"""
from __future__ import annotations

import errno
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

from grader.errors import UserError

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
        status TEXT NOT NULL,              -- grader.status.Status
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
    # A test's loss curves (TestResult.curves), so pages rebuilt from the record still draw them.
    """
    ALTER TABLE test_results ADD COLUMN curves TEXT NOT NULL DEFAULT '[]';  -- JSON list of LossCurve
    """,
)
REMOVED, RESTORED = "removed", "restored"  # roll_events.event
SCHEMA_VERSION = len(MIGRATIONS)
BY_NAME = "by_name"  # a collation: names as sort_key orders them, case-insensitively, then exactly
ADOPTED = "unknown (adopted from results.json)"  # grader version and course fingerprint of an adopted run


def _by_name(left: str, right: str) -> int:
    a, b = (left.casefold(), left), (right.casefold(), right)
    return (a > b) - (a < b)


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


_Opened = TypeVar("_Opened", bound="Storage")


class Storage:
    """``OUT/gradebook.sqlite``, opened and migrated, and its runs. Use the record as a context
    manager (``with ClassRecord.open(out) as record:``); leaving it closes the connection."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self.db, self.path = connection, path

    @classmethod
    def open(cls: type[_Opened], out: Path) -> _Opened:
        """Open (creating OUT and the database if needed) and migrate to ``SCHEMA_VERSION``."""
        out = Path(out)
        out.mkdir(parents=True, exist_ok=True)
        path = out / DATABASE_FILE
        try:
            connection = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.create_collation(BY_NAME, _by_name)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA foreign_keys=ON")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
            migrate(connection)
        except sqlite3.DatabaseError as error:
            raise RecordError(f"{path} is not a class record torchgrade can read ({error})") from None
        return cls(connection, path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self: _Opened) -> _Opened:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    # -- runs --------------------------------------------------------------
    def begin_run(self, *, grader_version: str, seed: int, course_title: str, course_fingerprint: str,
                  exercise_ids: Sequence[str], forced: bool = False) -> int:
        with transaction(self.db):
            cursor = self.db.execute(
                "INSERT INTO runs (started_at, grader_version, seed, course_title, course_fingerprint, exercises,"
                " forced) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (now(), grader_version, seed, course_title, course_fingerprint, json.dumps(list(exercise_ids)),
                 int(forced)))
        return row_id(cursor)

    def finish_run(self, run_id: int) -> None:
        with transaction(self.db):
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



def migrate(connection: sqlite3.Connection) -> int:
    """Bring the schema to ``SCHEMA_VERSION``, one migration per transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RecordError(f"the class record has schema version {version}, newer than this grader's "
                          f"{SCHEMA_VERSION}: upgrade torchgrade")
    for number in range(version, SCHEMA_VERSION):
        with transaction(connection):
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


class transaction:
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


def row_id(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # never after an INSERT that inserted
        raise sqlite3.DatabaseError("an INSERT gave no row id")
    return cursor.lastrowid


def _run(row: sqlite3.Row) -> Run:
    return Run(id=row["id"], started_at=row["started_at"], finished_at=row["finished_at"],
               grader_version=row["grader_version"], seed=row["seed"], course_title=row["course_title"],
               course_fingerprint=row["course_fingerprint"], exercises=tuple(json.loads(row["exercises"])),
               forced=bool(row["forced"]))

