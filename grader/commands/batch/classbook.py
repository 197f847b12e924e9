"""The class book: everything ``grade batch`` writes to OUT, and the class's numbers.

Per submission, ``OUT/<name>/report.html`` (the student's report) and
``OUT/<name>/results.json`` (Gradescope's schema), written by the worker that
graded it (and rewritten by the controller from the class record when the run
graded only some exercises, or an override is in force). ``gradebook.csv`` and
``index.html`` (the class summary) are views of the class record
(``build_outputs_from_record``); ``build_outputs`` rebuilds them from the
``results.json`` files alone, for an OUT without a record. The class
numbers are small pure functions (``summarize`` and its helpers), rendered by
``templates/summary.html.j2``.

Imported by both sides of a batch (the controller and its workers), so it
imports neither of them, nor torch.
"""
from __future__ import annotations

import csv
import io
import json
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course.catalogue import Course, ExerciseSpec
from grader.outputs.files import write_atomic
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.record.database import ClassRecord, Current
from grader.record.status import GRADER_FAILED_TEST  # the stand-in test of a row the grader could not grade
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult
from grader.verdicts import Verdict

RESULTS_FILE, REPORT_FILE = "results.json", "report.html"
GRADEBOOK_FILE, INDEX_FILE = "gradebook.csv", "index.html"
GRADER_FAILED = "the grader failed on this submission"
HISTOGRAM_BINS = 10
FREQUENT_HINTS = 10


def sort_key(name: str) -> tuple[str, str]:
    """Submissions are listed by name, case-insensitively (then exactly, for ties)."""
    return name.casefold(), name


# ---------------------------------------------------------------------------
# Files in OUT
# ---------------------------------------------------------------------------
def read_result(folder: Path) -> SubmissionResult | None:
    """``folder/results.json`` as a result, or None if missing or unreadable."""
    try:
        return from_gradescope(json.loads((folder / RESULTS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def grader_failed(result: SubmissionResult) -> bool:
    """Whether this is the row of a submission the grader could not grade (not a score)."""
    return any(t.name == GRADER_FAILED_TEST for e in result.exercises for t in e.tests)


def write_submission(out: Path, result: SubmissionResult, hidden_visibility: Mapping[str, str] | None = None) -> Path:
    """The student's report, then ``results.json``: written last, it marks the
    submission as finished for ``--resume`` and for the gradebook.
    ``hidden_visibility``: the course's, for results.json (see to_gradescope)."""
    from grader.outputs.html import write_html  # noqa: PLC0415 - Jinja only where pages are written

    folder = out / result.submission
    write_html(result, folder / REPORT_FILE)
    write_atomic(folder / RESULTS_FILE,
                 json.dumps(to_gradescope(result, hidden_visibility=hidden_visibility), indent=1) + "\n")
    return folder


def failed_result(name: str, specs: Sequence[ExerciseSpec], seed: int, reason: str) -> SubmissionResult:
    """The row for a submission the grader itself could not grade: zero points,
    each exercise's points at stake, and the reason in plain words."""
    exercises = tuple(ExerciseResult(
        exercise_id=spec.id, title=spec.title, seed=seed, problem=GRADER_FAILED,
        tests=(TestResult(name=GRADER_FAILED_TEST, title=GRADER_FAILED, max_points=spec.points, passed=False,
                          message=reason, verdict=Verdict.GRADER_ERROR),))
        for spec in specs)
    return SubmissionResult(submission=name, exercises=exercises, seed=seed)


def collect_results(out: Path, names: Iterable[str] | None = None) -> list[SubmissionResult]:
    """Every ``OUT/*/results.json`` (only those of ``names`` if given), by name."""
    if not out.is_dir():
        return []
    wanted = set(names) if names is not None else None
    folders = [p for p in out.iterdir() if p.is_dir() and (wanted is None or p.name in wanted)]
    results = [result for result in map(read_result, folders) if result is not None]
    return sorted(results, key=lambda r: sort_key(r.submission))


def exercise_columns(results: Sequence[SubmissionResult], course_ids: Sequence[str]) -> list[str]:
    """The gradebook's exercise columns: the course's, in its order, that any
    result holds (all of the course's while there is no result yet)."""
    present = {e.exercise_id for r in results for e in r.exercises}
    if not present:
        return list(course_ids)
    return [i for i in course_ids if i in present] + sorted(present - set(course_ids))


def _spreadsheet_safe(text: str) -> str:
    # A cell starting with = + - @ is a formula to Excel and LibreOffice; a
    # submission's name is chosen by a student.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def gradebook_rows(results: Sequence[SubmissionResult], columns: Sequence[str]) -> list[list[str]]:
    """Header and one row per submission: points earned per exercise and in total.

    A row the grader failed on has empty cells, not zeros: it is not a score,
    and an empty cell is not uploaded to a course platform as one.
    """
    from grader.outputs.html import format_points  # noqa: PLC0415

    rows = [["submission", *columns, "total"]]
    for result in sorted(results, key=lambda r: sort_key(r.submission)):
        by_id = {e.exercise_id: e for e in result.exercises}
        scored = not grader_failed(result)
        rows.append([_spreadsheet_safe(result.submission),
                     *(format_points(by_id[c].score) if c in by_id and scored else "" for c in columns),
                     format_points(result.score) if scored else ""])
    return rows


def gradebook_csv(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


# ---------------------------------------------------------------------------
# The class summary: pure functions of the results
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ExerciseStats:
    exercise_id: str
    title: str
    max_points: float
    mean: float
    median: float
    full_marks: int  # submissions with every point of this exercise
    submitted: int  # submissions that handed in this exercise's file
    count: int  # submissions graded on it (not submitted counts as zero points)


@dataclass(frozen=True)
class TestStats:
    exercise_id: str
    name: str
    title: str
    max_points: float
    passed: int
    attempted: int  # submissions that handed in the exercise

    @property
    def pass_rate(self) -> float:
        return self.passed / self.attempted if self.attempted else 0.0


@dataclass(frozen=True)
class HintCount:
    exercise_id: str
    hint: str
    count: int  # submissions shown this hint


@dataclass(frozen=True)
class Bin:
    low: float
    high: float
    count: int


@dataclass(frozen=True)
class ClassSummary:
    count: int  # submissions with a score (rows the grader failed on are only in grader_failed)
    max_total: float
    mean_total: float
    median_total: float
    exercises: tuple[ExerciseStats, ...]
    histogram: tuple[Bin, ...]
    tests: tuple[TestStats, ...]
    hints: tuple[HintCount, ...]
    verdicts: tuple[tuple[str, int], ...]  # verdict, submissions that got it; most frequent first
    problems: tuple[tuple[str, str], ...]  # (submission, why it could not be graded)
    grader_failed: tuple[str, ...]
    sandbox: SandboxStatus
    seeds: tuple[int, ...]


def mean_median(values: Sequence[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    return round(statistics.fmean(values), 2), float(statistics.median(values))


def histogram(totals: Sequence[float], max_total: float, bins: int = HISTOGRAM_BINS) -> tuple[Bin, ...]:
    """Totals counted in ``bins`` equal ranges over [0, max_total]; the last
    range includes its top (full marks), the others do not."""
    if max_total <= 0:
        return (Bin(0.0, 0.0, len(totals)),)
    width = max_total / bins
    counts = [0] * bins
    for total in totals:
        counts[min(max(int(total / width), 0), bins - 1)] += 1
    return tuple(Bin(round(k * width, 6), round((k + 1) * width, 6), n) for k, n in enumerate(counts))


def exercise_stats(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> tuple[ExerciseStats, ...]:
    stats = []
    for exercise_id in exercise_ids:
        graded = [e for r in results for e in r.exercises if e.exercise_id == exercise_id]
        if not graded:
            continue
        mean, median = mean_median([e.score for e in graded])
        stats.append(ExerciseStats(exercise_id=exercise_id, title=graded[0].title,
                                   max_points=max(e.max_score for e in graded), mean=mean, median=median,
                                   full_marks=sum(e.full_marks for e in graded),
                                   submitted=sum(e.submitted for e in graded), count=len(graded)))
    return tuple(stats)


def pass_rates(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> tuple[TestStats, ...]:
    """Every hidden test's pass rate among the submissions that handed in its
    exercise, most failed first (then in course and suite order)."""
    seen: dict[tuple[str, str], list] = {}  # (exercise, test) -> [title, max_points, passed, attempted]
    for result in results:
        for exercise in result.exercises:
            if not exercise.submitted:
                continue
            for test in exercise.tests:
                if test.name == GRADER_FAILED_TEST:
                    continue
                entry = seen.setdefault((exercise.exercise_id, test.name), [test.title, test.max_points, 0, 0])
                entry[2] += test.passed
                entry[3] += 1
    order = {exercise_id: n for n, exercise_id in enumerate(exercise_ids)}
    stats = [TestStats(exercise_id, name, title, points, passed, attempted)
             for (exercise_id, name), (title, points, passed, attempted) in seen.items()]
    position = {(s.exercise_id, s.name): n for n, s in enumerate(stats)}
    stats.sort(key=lambda s: (s.pass_rate, order.get(s.exercise_id, len(order)), position[(s.exercise_id, s.name)]))
    return tuple(stats)


def frequent_hints(results: Sequence[SubmissionResult], limit: int = FREQUENT_HINTS) -> tuple[HintCount, ...]:
    """The hints shown most often, counting each submission once per hint."""
    counts: Counter[tuple[str, str]] = Counter()
    for result in results:
        counts.update({(e.exercise_id, t.hint) for e in result.exercises for t in e.tests
                       if t.hint and not t.passed})
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(HintCount(exercise_id, hint, n) for (exercise_id, hint), n in ranked[:limit])


def verdict_counts(results: Sequence[SubmissionResult]) -> tuple[tuple[str, int], ...]:
    """How many submissions got each verdict (time limit, crashed, ...) at least once."""
    counts: Counter[str] = Counter()
    for result in results:
        counts.update({t.verdict for e in result.exercises for t in e.tests if t.verdict})
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def class_sandbox(results: Sequence[SubmissionResult]) -> SandboxStatus:
    """Walls every submission had; every warning any of them was graded with."""
    if not results:
        return SandboxStatus()
    walls = set(results[0].sandbox.walls).intersection(*(r.sandbox.walls for r in results))
    missing = dict.fromkeys(m for r in results for m in r.sandbox.missing)
    return SandboxStatus(walls=tuple(w for w in results[0].sandbox.walls if w in walls), missing=tuple(missing))


def summarize(results: Sequence[SubmissionResult], exercise_ids: Sequence[str]) -> ClassSummary:
    """The class's numbers; rows the grader failed on are listed, not counted in them."""
    scored = [r for r in results if not grader_failed(r)]
    totals = [r.score for r in scored]
    max_total = max((r.max_score for r in scored), default=0.0)
    mean, median = mean_median(totals)
    problems = []
    for result in results:
        problem = next((e.problem for e in result.exercises if e.problem and not e.submitted), None)
        if problem and not any(e.submitted for e in result.exercises) and not grader_failed(result):
            problems.append((result.submission, problem))
    return ClassSummary(
        count=len(scored), max_total=max_total, mean_total=mean, median_total=median,
        exercises=exercise_stats(scored, exercise_ids), histogram=histogram(totals, max_total),
        tests=pass_rates(scored, exercise_ids), hints=frequent_hints(scored),
        verdicts=verdict_counts(scored), problems=tuple(problems),
        grader_failed=tuple(r.submission for r in results if grader_failed(r)),
        sandbox=class_sandbox(results), seeds=tuple(sorted({r.seed for r in results})),
    )


def render_summary(summary: ClassSummary, results: Sequence[SubmissionResult], *, title: str,
                   ungraded: Sequence[str] = (), records: Sequence[Current] = (),
                   removed: Sequence[str] = ()) -> str:
    """The class summary page (``OUT/index.html``): self-contained, no scripts.
    ``ungraded``: submissions listed but without results (an interrupted batch);
    ``records``: the class record's current states, whose overrides the page
    shows; ``removed``: submissions gone from SUBMISSIONS."""
    from grader.outputs.html import template_environment  # noqa: PLC0415

    columns = [s.exercise_id for s in summary.exercises]
    overrides = {r.submission: dict(r.overrides) for r in records if r.overrides}
    totals = {r.submission: r.total for r in records if r.overrides and r.total is not None}
    return template_environment().get_template("summary.html.j2").render(
        summary=summary, results=results, columns=columns, title=title, sandbox=summary.sandbox, ungraded=ungraded,
        overrides=overrides, totals=totals, removed=removed,
        report_file=REPORT_FILE, results_file=RESULTS_FILE, gradebook_file=GRADEBOOK_FILE)


# ---------------------------------------------------------------------------
# OUT as views of the class record (grader.record)
# ---------------------------------------------------------------------------
def write_current(out: Path, current: Current, hidden_visibility: Mapping[str, str] | None = None,
                  *, report_only: bool = False) -> Path:
    """One submission's files from its current state in the class record: every
    exercise (whichever run graded it last), its overrides shown in the report."""
    from grader.outputs.html import write_html  # noqa: PLC0415

    folder = out / current.submission
    write_html(current.result, folder / REPORT_FILE, overrides=current.overrides)
    if not report_only:
        write_atomic(folder / RESULTS_FILE,
                     json.dumps(to_gradescope(current.result, hidden_visibility=hidden_visibility), indent=1) + "\n")
    return folder


def build_outputs_from_record(record: ClassRecord, out: Path, *, title: str, course_ids: Sequence[str],
                              listed: Iterable[str] | None = None) -> ClassSummary:
    """Rebuild ``gradebook.csv`` and ``index.html`` from the class record alone.
    ``listed``: the entries of SUBMISSIONS, to name those not graded yet."""
    from grader.record import views  # noqa: PLC0415

    records = record.current()
    results = [r.result for r in records]
    columns = exercise_columns(results, course_ids)
    write_atomic(out / GRADEBOOK_FILE, views.gradebook_csv(record, course_ids))
    summary = summarize(results, columns)
    graded = {r.submission for r in records}
    ungraded = sorted((n for n in set(listed or ()) if n not in graded), key=sort_key)
    write_atomic(out / INDEX_FILE, render_summary(summary, results, title=title, ungraded=ungraded, records=records,
                                                  removed=record.removed()))
    return summary


def build_outputs(out: Path, course: Course, names: Iterable[str] | None = None) -> ClassSummary:
    """Rebuild ``gradebook.csv`` and ``index.html`` from the ``results.json`` files in OUT."""
    names = None if names is None else list(names)
    results = collect_results(out, names)
    columns = exercise_columns(results, course.ids)
    write_atomic(out / GRADEBOOK_FILE, gradebook_csv(gradebook_rows(results, columns)))
    summary = summarize(results, columns)
    graded = {r.submission for r in results}
    ungraded = sorted((n for n in set(names or ()) if n not in graded), key=sort_key)
    write_atomic(out / INDEX_FILE, render_summary(summary, results, title=course.title, ungraded=ungraded))
    return summary
