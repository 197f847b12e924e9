"""Views of the class record: ``gradebook.csv``, rebuilt from the database
alone, never from files in OUT, so it agrees with the class summary and the
exports.
"""
from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from grader.course.names import same_student
from grader.inert import inert
from grader.outputs.files import atomic_writer
from grader.record.database import ClassRecord, Current
from grader.status import Status

MAXIMUM_ROW = "(maximum points)"  # the gradebook's second row; no entry name has parentheses around it
MAXIMUM_STATUS = "maximum"


def points_text(points: float | None) -> str:
    """Points as people write them (``2``, ``1.5``); empty where there is no score."""
    return "" if points is None else f"{points:g}"


def spreadsheet_safe(text: str) -> str:
    """A text cell of a CSV we write: a submission's name, a roster's, a note
    (chosen by someone else) is made inert (no escape sequence, no line break;
    ``grader.inert``), and a cell starting with = + - @ is a formula to Excel
    and LibreOffice: a quote in front keeps it text."""
    text = inert(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def exercise_columns(records: Iterable[Current] | Mapping[str, float], course_ids: Sequence[str]) -> list[str]:
    """The exercises the record holds (given its current states, or its
    exercises' maxima): the course's in its order, then any other (an
    exercise never graded into this OUT has no column)."""
    present = records if isinstance(records, Mapping) else {e.exercise_id for r in records for e in r.result.exercises}
    return [c for c in course_ids if c in present] + sorted(set(present) - set(course_ids))


def notes(record: Current) -> str:
    """The row's words: why it has no score, and every override with its reason."""
    parts = []
    if record.status is not Status.GRADED and record.reason:
        parts.append(record.reason)
    for exercise_id, override in sorted(record.overrides.items()):
        parts.append(f"{exercise_id} set by hand to {override.points:g} "
                     f"(graded {record.graded_points(exercise_id):g}): {override.reason}")
    return "; ".join(parts)


def gradebook_header(maxima: Mapping[str, float], course_ids: Sequence[str]) -> list[list[str]]:
    """The header and the row of maximum points, from each exercise's maximum as the latest results state it."""
    columns = exercise_columns(maxima, course_ids)
    return [["submission", "status", *columns, "total", "notes"],
            [MAXIMUM_ROW, MAXIMUM_STATUS, *(points_text(maxima[c]) for c in columns),
             points_text(sum(maxima[c] for c in columns)), ""]]


def gradebook_row(record: Current, columns: Sequence[str], same_student: Sequence[str] = ()) -> list[str]:
    """One submission's status, effective points per exercise and in total, and
    notes. A removed submission keeps a row saying so, without points.
    ``same_student``: the other current submissions that may be the same student's."""
    scored = record.status is not Status.REMOVED
    flagged = [f"may be the same student as {', '.join(same_student)}: an export asks which one counts"
               ] if same_student else []
    return [spreadsheet_safe(record.submission), record.status.value,
            *(points_text(record.points(c)) if scored else "" for c in columns),
            points_text(record.total) if scored else "",
            spreadsheet_safe("; ".join(p for p in (notes(record), *flagged) if p))]


def write_gradebook(record: ClassRecord, path: Path, course_ids: Sequence[str],
                    each: Callable[[Current], object] = lambda _current: None) -> Path:
    """``gradebook.csv`` from the record (removed submissions included, marked),
    written atomically as the record is read, one submission at a time; ``each`` sees
    every submission's current state as it goes by (the class's numbers are counted so)."""
    header = gradebook_header(record.exercise_maxima(), course_ids)
    columns = header[0][2:-2]
    flagged = same_student(record.names() - set(record.removed()))
    with atomic_writer(path) as file:
        writer = csv.writer(file)
        writer.writerows(header)
        for current in record.each_current(include_removed=True, brief=True):
            each(current)
            writer.writerow(gradebook_row(current, columns, flagged.get(current.submission, ())
                                          if current.status is not Status.REMOVED else ()))
    return path
