"""What ``grade history``, ``grade override`` and ``grade export`` do, one
function each, for a thin CLI: open OUT's record, act, return the text to
print. ``write_gradebook`` rebuilds the gradebook alone; ``rebuild_views``
the student's report, the gradebook and the class summary after an override.
Errors a user can hit raise ``RecordError`` (print its message, exit 2).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.record import exports, history, views
from grader.record.classbook import build_outputs_from_record, write_current
from grader.record.database import DATABASE_FILE, ClassRecord, RecordError
from grader.record.roster import read_roster
from grader.status import Status

GRADEBOOK_FILE = "gradebook.csv"


def open_existing(out: Path) -> ClassRecord:
    """OUT's record, which must exist: these commands never create one."""
    if not (Path(out) / DATABASE_FILE).is_file():
        raise RecordError(f"{out} holds no class record ({DATABASE_FILE}): grade a batch into it first")
    return ClassRecord.open(Path(out))


def write_gradebook(record: ClassRecord, out: Path, course_ids: Sequence[str]) -> Path:
    """Rebuild ``OUT/gradebook.csv`` from the record (atomically)."""
    return views.write_gradebook(record, Path(out) / GRADEBOOK_FILE, course_ids)


def show_history(out: Path, submission: str | None = None, *, everything: bool = False) -> str:
    """``grade history OUT [SUBMISSION]``: the changes, as plain text."""
    with open_existing(out) as record:
        if submission is not None:
            record.current_of(submission)  # a plain error for a name the record does not know
        return history.render_history(history.history(record, submission, only_changes=not everything))


def override(out: Path, submission: str, exercise_id: str, points: float, *, reason: str,
             course_ids: Sequence[str] = ()) -> str:
    """``grade override OUT SUBMISSION EXERCISE POINTS --reason TEXT``; the gradebook is rebuilt."""
    with open_existing(out) as record:
        made = record.set_override(submission, exercise_id, points, reason)
        graded = record.current_of(submission).graded_points(exercise_id)
        rebuild_views(record, out, submission, course_ids)
    return (f"{submission} {exercise_id}: {made.points:g} points set by hand (graded {graded:g}), "
            f"reason: {made.reason}. It stays until removed with --remove.\n")


def remove_override(out: Path, submission: str, exercise_id: str, *, course_ids: Sequence[str] = ()) -> str:
    """``grade override OUT SUBMISSION EXERCISE --remove``; the gradebook is rebuilt."""
    with open_existing(out) as record:
        removed = record.remove_override(submission, exercise_id)
        graded = record.current_of(submission).graded_points(exercise_id)
        rebuild_views(record, out, submission, course_ids)
    return (f"{submission} {exercise_id}: override of {removed.points:g} removed; "
            f"the grader's {graded:g} counts again.\n")


def export_grades(out: Path, *, format: str, roster: Path, path: Path | None = None, assignment: str | None = None,
                  changed_only: bool = False, course_ids: Sequence[str] = ()) -> tuple[exports.ExportOutcome, str]:
    """``grade export OUT --format canvas|moodle|csv --roster roster.csv [--assignment NAME] [--changed-only]``.
    Writes ``OUT/export-<format>.csv`` unless ``path`` is given; the assignment
    defaults to the course's title."""
    students = read_roster(roster)
    with open_existing(out) as record:
        latest = record.latest_run()
        name = assignment or (latest.course_title if latest else "torchgrade")
        outcome = exports.export(record, format=format, students=students,
                                 path=path or Path(out) / f"export-{format}.csv", assignment=name,
                                 course_ids=course_ids or _course_ids(record), changed_only=changed_only)
    return outcome, exports.render_outcome(outcome)


def rebuild_views(record: ClassRecord, out: Path, submission: str, course_ids: Sequence[str] = ()) -> None:
    """After a change by hand: the student's report, ``gradebook.csv`` and ``index.html``, from the record."""
    current = record.current_of(submission)
    latest = record.latest_run()
    if current.status is not Status.REMOVED:  # results.json keeps the grader's points
        write_current(Path(out), current, report_only=True, course_title=latest.course_title if latest else "")
    build_outputs_from_record(record, Path(out), title=latest.course_title if latest else "torchgrade",
                              course_ids=course_ids or _course_ids(record))


def _course_ids(record: ClassRecord) -> list[str]:
    """The columns when the course is not at hand."""
    return record.exercise_order()
