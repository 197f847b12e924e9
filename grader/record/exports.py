"""Files an LMS imports as they are: Canvas's gradebook import, Moodle's CSV
grade import, and a plain CSV; each a view of the class record joined with the
roster.

Canvas (the layout of its own gradebook export, which its import reads back):
``Student, ID, SIS User ID, SIS Login ID, Section, <Assignment (id)>``, then
a "Points Possible" row, then one row per student. A blank score is
never sent: a submission without a score (the grader failed on it) is left out
of the file and listed instead. Moodle: one row per student with ``ID number`` and
``Email address`` (the import maps users by either), the grade column and a
``Feedback`` column. Submissions without a roster line, and students without
a submission, are returned so the command can list them: never dropped
silently. Each export is recorded, so ``changed_only`` writes only the rows
whose grade differs from the last export of that format and assignment.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.outputs.files import write_atomic
from grader.record.database import ClassRecord, Current, RecordError
from grader.record.roster import Matching, Student, match
from grader.words import Word
from grader.record.views import exercise_columns, notes, points_text, spreadsheet_safe
from grader.words import counted
from grader.status import Status



class ExportFormat(Word):
    """What ``grade export --format`` writes: Canvas's gradebook import, Moodle's CSV grade import, or plain CSV."""

    CANVAS = "canvas"
    MOODLE = "moodle"
    CSV = "csv"


FORMATS = tuple(f.value for f in ExportFormat)
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_POSSIBLE = "    Points Possible"  # as Canvas's export writes it (indented, so it sorts first)
MOODLE_IDENTITY = ("ID number", "Email address", "Full name")
MOODLE_FEEDBACK = "Feedback"


@dataclass(frozen=True)
class ExportOutcome:
    path: Path
    format: ExportFormat
    assignment: str
    written: tuple[str, ...]  # submissions with a row in the file
    unchanged: tuple[str, ...]  # left out by changed_only: same grade as the last export
    without_student: tuple[str, ...]  # submissions the roster does not name
    without_submission: tuple[str, ...]  # roster lines (by submission) with nothing in the record
    unmatchable: tuple[str, ...]  # students this LMS cannot match (Moodle: no ID number and no email)
    no_score: tuple[str, ...] = ()  # left out of an LMS file: no score to send (the grader failed)


def grade_value(record: Current) -> str:
    """What an LMS receives: the effective total; empty where there is no score (the grader failed)."""
    return points_text(record.total)


def canvas_rows(pairs: Sequence[tuple[Student, Current]], *, assignment: str,
                points_possible: float) -> list[list[str]]:
    rows = [[*CANVAS_IDENTITY, assignment], [CANVAS_POINTS_POSSIBLE, "", "", "", "", points_text(points_possible)]]
    for student, record in pairs:
        rows.append([student.name or student.submission, student.id, student.sis_user_id, student.sis_login_id,
                     student.section, grade_value(record)])
    return rows


def moodle_id_number(student: Student) -> str:
    """Moodle's "ID number" is the institution's number for the user: the SIS user id, else the LMS id."""
    return student.sis_user_id or student.id


def moodle_rows(pairs: Sequence[tuple[Student, Current]], *, assignment: str) -> list[list[str]]:
    rows = [[*MOODLE_IDENTITY, assignment, MOODLE_FEEDBACK]]
    for student, record in pairs:
        feedback = "; ".join(p for p in (record.status.value if record.status is not Status.GRADED else "",
                                         notes(record)) if p)
        rows.append([moodle_id_number(student), student.email, student.name, grade_value(record), feedback])
    return rows


def plain_rows(matching: Matching, columns: Sequence[str]) -> list[list[str]]:
    """Everything: matched students, submissions without a student and students without a submission."""
    header = ["submission", "name", "id", "sis_user_id", "sis_login_id", "email", "section", "status", *columns,
              "total", "notes"]
    rows = [header]
    nobody = Student(submission="")
    for student, record in [*matching.pairs, *((nobody, r) for r in matching.without_student)]:
        rows.append([record.submission, *_identity(student), record.status.value,
                     *(points_text(record.points(c)) for c in columns), grade_value(record), notes(record)])
    for student in matching.without_submission:
        rows.append([student.submission, *_identity(student), "no submission",
                     *("" for _ in columns), "", ""])
    return rows


def _identity(student: Student) -> list[str]:
    return [student.name, student.id, student.sis_user_id, student.sis_login_id, student.email, student.section]


def to_csv(rows: Sequence[Sequence[str]]) -> str:
    """The one way an export's rows become a file: every cell of every format through ``spreadsheet_cell``,
    whoever chose it (a roster's ids and emails, a submission's name, a note, the assignment's name)."""
    buffer = io.StringIO()
    csv.writer(buffer).writerows([[spreadsheet_cell(cell) for cell in row] for row in rows])
    return buffer.getvalue()


_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def spreadsheet_cell(text: str) -> str:
    """A number as the record writes one (``points_text``: ``-2``, ``7.5``) as it is, for the LMS to read
    as a grade; any other text ``spreadsheet_safe`` (inert, and never a formula)."""
    return text if _PLAIN_NUMBER.fullmatch(text) else spreadsheet_safe(text)


def export(record: ClassRecord, *, format: ExportFormat | str, students: Sequence[Student], path: Path, assignment: str,
           course_ids: Sequence[str] = (), changed_only: bool = False) -> ExportOutcome:
    """Write ``path`` in ``format`` for ``assignment`` (Canvas: ``Name (assignment id)``;
    without an id Canvas makes a new assignment) and record what it said."""
    try:
        kind = ExportFormat(format)
    except ValueError:
        raise RecordError(f"unknown export format {format!r}: use one of {', '.join(FORMATS)}") from None
    if not assignment.strip():
        raise RecordError("the export needs an assignment name (--assignment \"Homework 1 (12345)\")")
    records = list(record.each_current(brief=True))
    matching = match(students, records)
    pairs = list(matching.pairs)
    unmatchable: list[str] = []
    if kind is ExportFormat.MOODLE:
        unmatchable = [s.submission for s, _ in pairs if not (moodle_id_number(s) or s.email)]
        pairs = [(s, r) for s, r in pairs if moodle_id_number(s) or s.email]
    no_score: list[str] = []
    if kind is not ExportFormat.CSV:
        no_score = [r.submission for _, r in pairs if r.total is None]
        pairs = [(s, r) for s, r in pairs if r.total is not None]
    unchanged: list[str] = []
    if changed_only and kind is not ExportFormat.CSV:
        last = record.last_exported(format=kind, assignment=assignment)
        unchanged = [r.submission for _, r in pairs if last.get(r.submission) == grade_value(r)]
        pairs = [(s, r) for s, r in pairs if r.submission not in set(unchanged)]
    if kind is ExportFormat.CANVAS:
        maximum = max((r.max_total for _, r in matching.pairs), default=0.0)
        rows = canvas_rows(pairs, assignment=assignment, points_possible=maximum)
    elif kind is ExportFormat.MOODLE:
        rows = moodle_rows(pairs, assignment=assignment)
    else:
        rows = plain_rows(matching, exercise_columns(records, course_ids))
    write_atomic(Path(path), to_csv(rows))
    record.record_export(format=kind, assignment=assignment, path=Path(path), changed_only=changed_only,
                         values={r.submission: grade_value(r) for _, r in pairs})
    return ExportOutcome(path=Path(path), format=kind, assignment=assignment,
                         written=tuple(r.submission for _, r in pairs), unchanged=tuple(unchanged),
                         without_student=tuple(r.submission for r in matching.without_student),
                         without_submission=tuple(s.submission for s in matching.without_submission),
                         unmatchable=tuple(unmatchable), no_score=tuple(no_score))


def render_outcome(outcome: ExportOutcome) -> str:
    """What the command prints: where the file is, and everyone who is not in it."""
    lines = [f"Wrote {outcome.path}: {counted(len(outcome.written), 'student')}, {outcome.format} format, "
             f"assignment {outcome.assignment!r}."]
    if outcome.unchanged:
        lines.append(f"Left out {len(outcome.unchanged)} unchanged since the last export: "
                     f"{', '.join(outcome.unchanged)}")
    if outcome.without_student:
        lines.append(f"Submissions with no roster line (not exported): {', '.join(outcome.without_student)}")
    if outcome.without_submission:
        lines.append(f"Students on the roster with no submission: {', '.join(outcome.without_submission)}")
    if outcome.no_score:
        lines.append(f"Not exported, no score (the grader failed: grade them again): {', '.join(outcome.no_score)}")
    if outcome.unmatchable:
        lines.append(f"Students without an ID number or email (Moodle cannot match them): "
                     f"{', '.join(outcome.unmatchable)}")
    return "\n".join(lines) + "\n"
