"""The roster: which student each submission belongs to, for the LMS exports.

A CSV file with a header row: ``submission`` (the entry's name in
SUBMISSIONS) and at least one identifier among ``id`` (the LMS's user id),
``sis_user_id``, ``sis_login_id`` and ``email``; ``name`` and ``section`` are
optional. Every problem is reported at once, with its line number, in plain
words. A roster line that could mean several submissions (``bob/``, ``bob.zip``
and ``bob.zip.ipynb`` in one class would all be bob's: ``grader.course.names``)
is refused with the candidates named: the export never guesses which one counts.
"""
from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course.names import student_key
from grader.record.database import Current, RecordError

IDENTIFIERS = ("id", "sis_user_id", "sis_login_id", "email")
COLUMNS = ("submission", "name", *IDENTIFIERS, "section")


class RosterError(RecordError):
    """The roster cannot be used; the message lists every problem found."""


@dataclass(frozen=True)
class Student:
    submission: str
    name: str = ""
    id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    email: str = ""
    section: str = ""
    line: int = 0  # in the roster file, for messages


@dataclass(frozen=True)
class Matching:
    """Submissions paired with students; nothing dropped on either side."""

    pairs: tuple[tuple[Student, Current], ...]
    without_student: tuple[Current, ...]  # submissions with no roster line
    without_submission: tuple[Student, ...]  # students with no submission in the record


def read_roster(path: Path) -> list[Student]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise RosterError(f"the roster {path} could not be read ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise RosterError(f"the roster {path} is not UTF-8 text: save it as 'CSV UTF-8'") from None
    return parse_roster(text, source=str(path))


def parse_roster(text: str, *, source: str = "the roster") -> list[Student]:
    # A spreadsheet's byte-order mark is not part of the first column's name.
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise RosterError(f"{source} is empty: it needs a header row such as 'submission,name,email'")
    columns = [cell.strip().lower() for cell in header]
    _refuse_if_any(source, _header_problems(columns))
    students, problems = _students(reader, columns)
    _refuse_if_any(source, problems)
    if not students:
        raise RosterError(f"{source} lists no student: it has a header row only")
    return students


def _refuse_if_any(source: str, problems: Sequence[str]) -> None:
    if problems:
        raise RosterError(f"{source}: " + "; ".join(problems) + ".")


def _header_problems(columns: Sequence[str]) -> list[str]:
    problems = []
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        problems.append(f"unknown {'column' if len(unknown) == 1 else 'columns'} {', '.join(map(repr, unknown))} "
                        f"(the columns are: {', '.join(COLUMNS)})")
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        problems.append(f"{'column' if len(repeated) == 1 else 'columns'} {', '.join(map(repr, repeated))} "
                        f"{'appears' if len(repeated) == 1 else 'appear'} more than once")
    if "submission" not in columns:
        problems.append("there is no 'submission' column (the name of each student's entry in SUBMISSIONS)")
    if not set(columns) & set(IDENTIFIERS):
        problems.append(f"there is no identifier column: add at least one of {', '.join(IDENTIFIERS)}")
    return problems


def _students(rows: Iterable[list[str]], columns: Sequence[str]) -> tuple[list[Student], list[str]]:
    """The students of the lines after the header, and every problem of theirs in line order."""
    students: list[Student] = []
    problems: list[str] = []
    first_seen: dict[tuple[str, str], int] = {}  # (column, value) -> the line it first appeared on
    for line, cells in enumerate(rows, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            problems.append(f"line {line} has {len(cells)} cells, the header {len(columns)}")
            continue
        values = {c: (cells[n].strip() if n < len(cells) else "") for n, c in enumerate(columns)}
        student = Student(**values, line=line)
        problems.extend(_student_problems(student, first_seen))
        students.append(student)
    return students, problems


def _student_problems(student: Student, first_seen: dict[tuple[str, str], int]) -> list[str]:
    """What is wrong with one roster line; notes its values in ``first_seen``."""
    problems = [] if student.submission else [f"line {student.line} has no submission"]
    problems += _repeated(student, ("submission",), first_seen)
    if not any(getattr(student, i) for i in IDENTIFIERS):
        who = student.submission or "no submission"
        problems.append(f"line {student.line} ({who}) has none of {', '.join(IDENTIFIERS)}")
    return problems + _repeated(student, IDENTIFIERS, first_seen)


def _repeated(student: Student, columns: Sequence[str], first_seen: dict[tuple[str, str], int]) -> list[str]:
    """Each of ``columns`` whose value an earlier line had; the new values noted in ``first_seen``."""
    problems = []
    for column in columns:
        value = getattr(student, column)
        if value and (column, value) in first_seen:
            problems.append(f"line {student.line} repeats {column} {value!r} (first on line "
                            f"{first_seen[(column, value)]})")
        elif value:
            first_seen[(column, value)] = student.line
    return problems


def match(students: Sequence[Student], records: Sequence[Current]) -> Matching:
    """Pair each submission with its student by the ``submission`` column.
    Raises ``RosterError`` if a line could mean several submissions."""
    ambiguous = ambiguous_lines(students, records)
    if ambiguous:
        raise RosterError("the roster does not say which submission counts: " + "; ".join(ambiguous)
                          + ". They would all be the same student's: keep the one that counts in the submissions "
                          "folder (move the others out), run grade batch --resume --prune, then export again.")
    by_name = {s.submission: s for s in students}
    names = {r.submission for r in records}
    return Matching(
        pairs=tuple((by_name[r.submission], r) for r in records if r.submission in by_name),
        without_student=tuple(r for r in records if r.submission not in by_name),
        without_submission=tuple(s for s in students if s.submission not in names),
    )


def ambiguous_lines(students: Sequence[Student], records: Sequence[Current]) -> list[str]:
    """Each roster line that could mean more than one submission of the record, with the candidates."""
    candidates: dict[str, list[str]] = defaultdict(list)
    for record in records:
        candidates[student_key(record.submission)].append(record.submission)
    return [f"line {s.line} ({s.submission}) could mean any of {', '.join(sorted(found))}"
            for s in students for found in [candidates.get(student_key(s.submission), [])] if len(found) > 1]
