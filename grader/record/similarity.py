"""The class record's part of similarity: each current result's answer marks
(stored with every grading, ``answer_marks``) and the pairs a ``grade
similar`` found (``similarity_runs``, ``similar_pairs``; nothing is
overwritten: each computation is a run of its own)."""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from grader.record.current import CURRENT_ROWS
from grader.record.database import ClassRecord
from grader.record.schema import now, transaction
from grader.similarity.ranking import Pair


def current_answer_marks(record: ClassRecord) -> dict[str, dict[str, tuple[str, ...]]]:
    """By exercise, by submission: the answer marks of each current result
    (submissions removed from SUBMISSIONS left out)."""
    rows = record.db.execute(
        f"SELECT c.exercise_id, c.submission, m.marks FROM ({CURRENT_ROWS}) c"  # noqa: S608 - a constant query, no values
        " JOIN answer_marks m ON m.grading_id = c.grading_id AND m.exercise_id = c.exercise_id"
        " WHERE c.age = 1 AND c.removed_at IS NULL")
    found: dict[str, dict[str, tuple[str, ...]]] = defaultdict(dict)
    for exercise_id, submission, marks in rows:
        found[exercise_id][submission] = tuple(str(m) for m in json.loads(marks))
    return dict(found)


def current_submissions(record: ClassRecord) -> dict[str, set[str]]:
    """By exercise, the submissions with a current result that submitted it."""
    found: dict[str, set[str]] = defaultdict(set)
    for exercise_id, submission in record.db.execute(
            f"SELECT exercise_id, submission FROM ({CURRENT_ROWS}) WHERE age = 1 AND removed_at IS NULL"  # noqa: S608 - a constant query, no values
            " AND submitted = 1"):
        found[exercise_id].add(submission)
    return dict(found)


def store_pairs(record: ClassRecord, pairs: Iterable[Pair], *, threshold: float, submissions: Path | None) -> int:
    """Record one similarity run and its pairs; returns the run's id."""
    with transaction(record.db):
        cursor = record.db.execute("INSERT INTO similarity_runs (computed_at, threshold, submissions) VALUES (?, ?, ?)",
                                   (now(), threshold, str(submissions) if submissions else None))
        run_id = int(cursor.lastrowid or 0)
        record.db.executemany(
            "INSERT INTO similar_pairs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, p.exercise_id, p.a, p.b, p.score, p.code_score, p.behaviour_score, p.code_words(),
              p.behaviour_words()) for p in pairs])
    return run_id
