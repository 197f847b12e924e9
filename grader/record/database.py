"""The class record in ``OUT/gradebook.sqlite``: every run, every result, by hand adjustments, exports.

Split by responsibility, one layer a module: ``schema`` (the file, its
versioned schema, its runs), ``current`` (each submission's current state),
``overrides`` (changes by hand and history) and this module, which writes a
submission's result as the worker sent it, and removes and restores entries;
what a run would replace is ``planning``'s. Nothing is ever overwritten: a
re-grade adds a grading. Each submission's grading is written in one
transaction: an interrupted batch loses at most the submissions in flight.

A batch calls, in order: ``ClassRecord.open(out)``; ``planning.plan_run(...)``
and ``check_plan(plan, force=...)`` before grading; ``begin_run(...)``;
``restore(names, ...)`` for removed entries back in SUBMISSIONS;
``store(run_id, result, files_hash=...)`` as each submission finishes;
``prune(names, ...)`` only when asked (``--prune``) and ``finish_run(run_id)``;
then the views (``grader.record.views``). A submission leaves the current
results only by ``remove``/``prune``, never because a folder held fewer
entries; every removal and restore is in ``roll_events``, which history shows.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict

from grader.record.current import Current
from grader.record.overrides import OverridesAndHistory
from grader.record.schema import (ADOPTED, DATABASE_FILE, RESTORED, REMOVED, RecordError, RecordFull, RecordRefused,
                                  is_disk_full, now, row_id, transaction)
from grader.results import SubmissionResult
from grader.status import combined_status

__all__ = ["DATABASE_FILE", "ClassRecord", "Current", "RecordError", "RecordFull", "RecordRefused"]


class ClassRecord(OverridesAndHistory):
    """The class record: opened, migrated (``schema``), read (``current``, ``overrides``), written here."""

    # -- results -----------------------------------------------------------
    def store(self, run_id: int, result: SubmissionResult, *, files_hash: str) -> int:
        """Record one submission's result, as it is, in one transaction; returns its grading id.
        Each exercise's status is the one its result was made with; the submission's is theirs combined."""
        try:
            return self._store(run_id, result, files_hash)
        except (sqlite3.Error, OSError) as error:
            if is_disk_full(error):
                raise RecordFull(result.submission, error) from None
            raise

    def _store(self, run_id: int, result: SubmissionResult, files_hash: str) -> int:
        status, reason = combined_status((e.status, e.reason) for e in result.exercises)
        with transaction(self.db):
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
                grading_id = int(self.db.execute("SELECT id FROM gradings WHERE run_id = ? AND submission = ?",
                                                 (run_id, result.submission)).fetchone()[0])
                self.db.execute("DELETE FROM test_results WHERE grading_id = ?", (grading_id,))
                self.db.execute("DELETE FROM answer_marks WHERE grading_id = ?", (grading_id,))
                self.db.execute("DELETE FROM exercise_results WHERE grading_id = ?", (grading_id,))
                self.db.execute("UPDATE gradings SET graded_at = ?, files_hash = ?, status = ?, reason = ?, seed = ?,"
                                " elapsed_s = ?, sandbox = ? WHERE id = ?",
                                (now(), files_hash, status.value, reason, result.seed, result.elapsed_s,
                                 json.dumps(asdict(result.sandbox)), grading_id))
            else:
                grading_id = row_id(cursor)
            for position, exercise in enumerate(result.exercises):
                self.db.execute(
                    "INSERT INTO exercise_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (grading_id, exercise.exercise_id, position, exercise.title, exercise.score, exercise.max_score,
                     exercise.status.value, exercise.reason, int(exercise.submitted), exercise.problem, exercise.output,
                     json.dumps(list(exercise.notes)), exercise.scope, exercise.seed))
                self.db.executemany(
                    "INSERT INTO test_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(grading_id, exercise.exercise_id, n, t.name, t.title, int(t.passed), t.points, t.max_points,
                      t.verdict.value if t.verdict else None, t.message, t.hint, t.visibility,
                      json.dumps([asdict(row) for row in t.table]), json.dumps([asdict(c) for c in t.curves]))
                     for n, t in enumerate(exercise.tests)])
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
        with transaction(self.db):
            for name in gone:
                self.db.execute("UPDATE submissions SET removed_at = ? WHERE name = ?", (stamp, name))
                self._roll_event(name, REMOVED, stamp, run_id, reason)
        return gone

    def restore(self, names: Iterable[str], *, run_id: int | None, reason: str) -> list[str]:
        """Make removed ``names`` current again, each restore recorded; returns them, sorted."""
        removed = set(self.removed())
        back = sorted(n for n in set(names) if n in removed)
        stamp = now()
        with transaction(self.db):
            for name in back:
                self.db.execute("UPDATE submissions SET removed_at = NULL WHERE name = ?", (name,))
                self._roll_event(name, RESTORED, stamp, run_id, reason)
        return back

