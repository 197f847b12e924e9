"""The class book: everything ``grade batch`` writes to OUT.

Per submission, ``OUT/submissions/<name>/report.html`` (the student's report)
and ``OUT/submissions/<name>/results.json`` (Gradescope's schema): every
submission's folder sits in ``OUT/submissions/``, where nothing else is, so no
name (``gradebook.sqlite``, ``index.html``) can meet one of OUT's own files.
They are written by the worker that
graded it (and rewritten by the controller from the class record when the run
graded only some exercises, or an override is in force). ``gradebook.csv`` and
``index.html`` (the class summary) are views of the class record
(``build_outputs_from_record``), streamed from it one submission at a
time; the class's numbers are counted by ``tally`` and rendered by
``templates/summary.html.j2``.

Imported by both sides of a batch (the controller and its workers), so it
imports neither of them, nor torch.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from grader.record.tally import ClassSummary, ClassTally
from grader.course.catalogue import ExerciseSpec
from grader.outputs.files import atomic_writer, write_atomic
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.record import views
from grader.record.database import ClassRecord, Current
from grader.results import ExerciseResult, SubmissionResult, TestResult
from grader.status import Status
from grader.verdicts import Verdict

RESULTS_FILE, REPORT_FILE = "results.json", "report.html"
GRADEBOOK_FILE, INDEX_FILE = "gradebook.csv", "index.html"
SUBMISSIONS_FOLDER = "submissions"  # OUT/submissions/<name>/: the only place a submission's name becomes a path
GRADER_FAILED = "the grader failed on this submission"
GRADER_FAILED_TEST = "grader_failed"  # the name of the stand-in test of a row the grader could not grade


def sort_key(name: str) -> tuple[str, str]:
    """Submissions are listed by name, case-insensitively (then exactly, for ties)."""
    return name.casefold(), name


# ---------------------------------------------------------------------------
# Files in OUT
# ---------------------------------------------------------------------------
def submission_folder(out: Path, name: str) -> Path:
    """``OUT/submissions/<name>``. A name is one plain path component (entry
    names are file names); anything else is a bug, never a path to follow."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a submission name: {name!r}")
    return out / SUBMISSIONS_FOLDER / name


def results_path(out: Path, name: str) -> Path:
    return submission_folder(out, name) / RESULTS_FILE


def read_result(folder: Path) -> SubmissionResult | None:
    """``folder/results.json`` as a result, or None if missing or unreadable."""
    try:
        return from_gradescope(json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_submission(out: Path, result: SubmissionResult, hidden_visibility: Mapping[str, str] | None = None,
                     *, course_title: str = "") -> Path:
    """The student's report (titled after the submission and ``course_title``), then ``results.json``: written
    last, it marks the submission as finished for ``--resume`` and for the gradebook.
    ``hidden_visibility``: the course's, for results.json (see to_gradescope)."""
    from grader.outputs.html import write_html  # noqa: PLC0415 - Jinja only where pages are written

    folder = submission_folder(out, result.submission)
    write_html(result, folder / REPORT_FILE, course_title=course_title)
    write_atomic(folder / RESULTS_FILE,
                 json.dumps(to_gradescope(result, hidden_visibility=hidden_visibility), indent=1) + "\n")
    return folder


def failed_result(name: str, specs: Sequence[ExerciseSpec], seed: int, reason: str) -> SubmissionResult:
    """The row for a submission the grader itself could not grade: zero points,
    each exercise's points at stake, and the reason in plain words."""
    exercises = tuple(ExerciseResult(
        exercise_id=spec.id, title=spec.title, seed=seed, status=Status.GRADER_FAILED, problem=GRADER_FAILED,
        tests=(TestResult(name=GRADER_FAILED_TEST, title=GRADER_FAILED, max_points=spec.points, passed=False,
                          message=reason, verdict=Verdict.GRADER_ERROR),))
        for spec in specs)
    return SubmissionResult(submission=name, exercises=exercises, seed=seed)


def collect_results(out: Path, names: Iterable[str] | None = None, *, legacy: bool = False) -> list[SubmissionResult]:
    """Every ``OUT/submissions/*/results.json`` (only those of ``names`` if given),
    by name; ``legacy``: an OUT written before ``submissions/`` (``OUT/*/results.json``)."""
    folder = out if legacy else out / SUBMISSIONS_FOLDER
    if not folder.is_dir():
        return []
    wanted = set(names) if names is not None else None
    folders = [p for p in folder.iterdir() if p.is_dir() and (wanted is None or p.name in wanted)]
    results = [result for result in map(read_result, folders) if result is not None]
    return sorted(results, key=lambda r: sort_key(r.submission))


def write_summary(path: Path, summary: ClassSummary, rows: Iterable[Current], *, title: str,
                  ungraded: Sequence[str] = (), removed: Sequence[str] = ()) -> Path:
    """The class summary page (``OUT/index.html``): self-contained, no scripts.
    ``rows``: each submission's current state, by name, read as the page is
    written (its table has a row each; nothing else holds them at once);
    ``ungraded``: submissions listed but without results (an interrupted
    batch); ``removed``: submissions gone from SUBMISSIONS."""
    from grader.outputs.html import template_environment  # noqa: PLC0415

    page = template_environment().get_template("summary.html.j2").generate(
        summary=summary, rows=rows, columns=[s.exercise_id for s in summary.exercises], title=title,
        sandbox=summary.sandbox, ungraded=ungraded, removed=removed,
        report_file=REPORT_FILE, results_file=RESULTS_FILE, gradebook_file=GRADEBOOK_FILE,
        submissions_folder=SUBMISSIONS_FOLDER)
    with atomic_writer(path) as file:
        file.writelines(page)
    return path


# ---------------------------------------------------------------------------
# OUT as views of the class record (grader.record)
# ---------------------------------------------------------------------------
def write_current(out: Path, current: Current, hidden_visibility: Mapping[str, str] | None = None,
                  *, report_only: bool = False, course_title: str = "") -> Path:
    """One submission's files from its current state in the class record: every
    exercise (whichever run graded it last), its overrides shown in the report."""
    from grader.outputs.html import write_html  # noqa: PLC0415

    folder = submission_folder(out, current.submission)
    write_html(current.result, folder / REPORT_FILE, overrides=current.overrides, course_title=course_title)
    if not report_only:
        write_atomic(folder / RESULTS_FILE,
                     json.dumps(to_gradescope(current.result, hidden_visibility=hidden_visibility), indent=1) + "\n")
    return folder


def build_outputs_from_record(record: ClassRecord, out: Path, *, title: str, course_ids: Sequence[str],
                              listed: Iterable[str] | None = None) -> ClassSummary:
    """Rebuild ``gradebook.csv`` and ``index.html`` from the class record alone,
    streaming it (``ClassRecord.each_current``): the class is read twice,
    one submission at a time, never held whole (the gradebook, counting the
    class's numbers as it goes; then the summary page's table, which opens
    with those numbers).
    ``listed``: the entries of SUBMISSIONS, to name those not graded yet."""
    tally = ClassTally()

    def count(current: Current) -> None:
        if current.status is not Status.REMOVED:
            tally.add(current.result, {exercise_id: o.points for exercise_id, o in current.overrides.items()})

    views.write_gradebook(record, out / GRADEBOOK_FILE, course_ids, each=count)
    summary = tally.summary(course_ids)
    graded = record.names()
    ungraded = sorted((n for n in set(listed or ()) if n not in graded), key=sort_key)
    write_summary(out / INDEX_FILE, summary, record.each_current(brief=True), title=title, ungraded=ungraded,
                  removed=record.removed())
    return summary
