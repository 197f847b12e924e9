"""Views of the class record: ``gradebook.csv`` and the results the class summary is built from.

Both are rebuilt from the database alone, never from files in OUT, so they
agree with each other and with the exports.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from grader.record.database import ClassRecord, Current
from grader.record.status import Status
from grader.results import SubmissionResult

MAXIMUM_ROW = "(maximum points)"  # the gradebook's second row; no entry name has parentheses around it
MAXIMUM_STATUS = "maximum"


def points_text(points: float | None) -> str:
    """Points as people write them (``2``, ``1.5``); empty where there is no score."""
    return "" if points is None else f"{points:g}"


def spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel and LibreOffice; a
    # submission's name (and an override's reason) is chosen by someone else.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def exercise_columns(records: Sequence[Current], course_ids: Sequence[str]) -> list[str]:
    """The exercises the record holds: the course's in its order, then any other
    (an exercise never graded into this OUT has no column)."""
    present = {e.exercise_id for r in records for e in r.result.exercises}
    return [c for c in course_ids if c in present] + sorted(present - set(course_ids))


def max_points(records: Sequence[Current], columns: Sequence[str]) -> dict[str, float]:
    """Each exercise's maximum, as the latest results state it."""
    maxima: dict[str, float] = {}
    for record in records:
        for exercise in record.result.exercises:
            maxima[exercise.exercise_id] = max(maxima.get(exercise.exercise_id, 0.0), exercise.max_score)
    return {c: maxima.get(c, 0.0) for c in columns}


def notes(record: Current) -> str:
    """The row's words: why it has no score, and every override with its reason."""
    parts = []
    if record.status is not Status.GRADED and record.reason:
        parts.append(record.reason)
    for exercise_id, override in sorted(record.overrides.items()):
        parts.append(f"{exercise_id} set by hand to {override.points:g} "
                     f"(graded {record.graded_points(exercise_id):g}): {override.reason}")
    return "; ".join(parts)


def gradebook_rows(records: Sequence[Current], course_ids: Sequence[str]) -> list[list[str]]:
    """Header, the row of maximum points, then one row per submission with its
    status, effective points per exercise and in total, and notes. A removed
    submission keeps a row saying so, without points."""
    columns = exercise_columns(records, course_ids)
    maxima = max_points(records, columns)
    rows = [["submission", "status", *columns, "total", "notes"],
            [MAXIMUM_ROW, MAXIMUM_STATUS, *(points_text(maxima[c]) for c in columns),
             points_text(sum(maxima.values())), ""]]
    for record in records:
        scored = record.status is not Status.REMOVED
        rows.append([spreadsheet_safe(record.submission), record.status.value,
                     *(points_text(record.points(c)) if scored else "" for c in columns),
                     points_text(record.total) if scored else "", spreadsheet_safe(notes(record))])
    return rows


def gradebook_csv(record: ClassRecord, course_ids: Sequence[str]) -> str:
    """``gradebook.csv``'s text, from the record (removed submissions included, marked)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows(gradebook_rows(record.current(include_removed=True), course_ids))
    return buffer.getvalue()


def summary_results(record: ClassRecord) -> list[SubmissionResult]:
    """The current ``SubmissionResult`` of every submission still in SUBMISSIONS,
    by name: what ``summarize``/``render_summary`` take today. Each holds the
    latest result of each exercise, whichever run graded it. Points are the
    grader's: overrides are in ``Current.overrides`` (see ``current_records``)."""
    return [c.result for c in record.current()]


def current_records(record: ClassRecord) -> list[Current]:
    """The same, with statuses, overrides and effective points, for pages that show them."""
    return record.current()
