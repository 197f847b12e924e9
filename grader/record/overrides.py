"""The class record's changes by hand and its history: overrides, removals and restores, exports.

An override sets an exercise's points by hand, with a reason, and outlives
re-grades until removed; nothing is ever overwritten (an override removed is
kept, with when). Removals and restores of a submission are ``roll_events``;
each export remembers what it said per submission, so the next can write only
changes. ``grader.record.history`` reads all of it.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from pathlib import Path

from grader.record.current import CurrentState, Override
from grader.record.schema import RecordError, now, row_id, transaction


class OverridesAndHistory(CurrentState):
    """Overrides, roll events, gradings and exports: what history shows."""

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
        with transaction(self.db):
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
        with transaction(self.db):
            self.db.execute("UPDATE overrides SET removed_at = ? WHERE submission = ? AND exercise_id = ?"
                            " AND removed_at IS NULL", (now(), submission, exercise_id))
        return override

    def override_events(self, submission: str | None = None) -> list[sqlite3.Row]:
        """Every override ever set, with when it was removed (for history)."""
        if submission is None:
            return self.db.execute("SELECT * FROM overrides ORDER BY id").fetchall()
        return self.db.execute("SELECT * FROM overrides WHERE submission = ? ORDER BY id", (submission,)).fetchall()

    # -- exports -----------------------------------------------------------
    def record_export(self, *, format: str, assignment: str, path: Path, changed_only: bool,
                      values: Mapping[str, str]) -> int:
        """Remember what an export said per submission, so the next can write only changes."""
        with transaction(self.db):
            cursor = self.db.execute("INSERT INTO exports (exported_at, format, assignment, path, changed_only)"
                                     " VALUES (?, ?, ?, ?, ?)", (now(), format, assignment, str(path),
                                                                  int(changed_only)))
            export_id = row_id(cursor)
            self.db.executemany("INSERT INTO export_rows VALUES (?, ?, ?)",
                                [(export_id, name, value) for name, value in values.items()])
        return export_id

    def last_exported(self, *, format: str, assignment: str) -> dict[str, str]:
        """What the exports of ``format``/``assignment`` last said per submission."""
        rows = self.db.execute(
            "SELECT r.submission, r.value FROM export_rows r JOIN exports x ON x.id = r.export_id"
            " WHERE x.format = ? AND x.assignment = ? ORDER BY x.id", (format, assignment))
        return {row["submission"]: row["value"] for row in rows}  # later exports overwrite earlier ones


    def _roll_event(self, name: str, event: str, at: str, run_id: int | None, reason: str) -> None:
        self.db.execute("INSERT INTO roll_events (submission, at, event, run_id, reason) VALUES (?, ?, ?, ?, ?)",
                        (name, at, event, run_id, reason))

    def roll_events(self, submission: str | None = None) -> list[sqlite3.Row]:
        """Every removal and restore, oldest first (for history)."""
        if submission is None:
            return self.db.execute("SELECT * FROM roll_events ORDER BY id").fetchall()
        return self.db.execute("SELECT * FROM roll_events WHERE submission = ? ORDER BY id",
                               (submission,)).fetchall()
