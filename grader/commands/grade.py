"""Grading one submission on this machine: what ``grade exerciseN`` does, and shows."""
from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from grader.engine.session import GradingSession
from grader.options import GradeOptions

if TYPE_CHECKING:
    from grader.course.catalogue import Course
    from grader.results import SubmissionResult

EXIT_FULL_MARKS, EXIT_POINTS_MISSING = 0, 1
OWN_WORK = "Your work"  # whose report, when a student grades the course's own exercises/ folder
REPORTS_FOLDER = Path("reports")  # relative: beside wherever the student runs `grade`


def grade_local(*, exercise_ids: Sequence[str] | None, submission: Path | None = None,
                course_root: Path | None = None, options: GradeOptions | None = None,
                prepare: Callable[[], None] | None = None) -> tuple[Course, SubmissionResult]:
    """Grade the given exercises (all when None) of one submission (the course's
    ``exercises/`` folder by default) and return the course and the result;
    its ``elapsed_s`` is the whole time it took (the sandbox starting, torch
    imported, every exercise graded), what the student waited. ``prepare``:
    what showing the result will need (``prepare_output``), done while the zygote
    finishes warming up, before the first room, rather than after the grading."""
    started = time.monotonic()
    with GradingSession.start(many_rooms=False, wait_on_close=False) as session:
        # The course's modules only now: the zygote's start (torch, then torch._dynamo) is the longer road.
        from grader.course.catalogue import load_course  # noqa: PLC0415
        from grader.course.submissions import read_submission  # noqa: PLC0415
        from grader.course.warming import warm_features  # noqa: PLC0415

        course = load_course(course_root)
        specs = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
        chosen = read_submission(submission or course.root / "exercises", [s.filename for s in specs])
        session.zygote.warm(warm_features(course, chosen, specs))  # warmed before it is ready, beside our torch import
        if prepare is not None:
            session.runner  # noqa: B018 - torch and the engine first: what the grading needs before the report
            prepare()
        run = session.grade(course, [chosen], specs, options=replace(options or GradeOptions(), answer_cache=True))
        return course, replace(run.results[0], elapsed_s=round(time.monotonic() - started, 3))


def exit_status(result: SubmissionResult) -> int:
    """0 when every point is earned, 1 otherwise (and when there was nothing to earn)."""
    return EXIT_FULL_MARKS if result.full_marks else EXIT_POINTS_MISSING


def report_path(exercise: str, chosen: Path | None = None) -> Path:
    """Where the HTML report goes: ``chosen``, or ``reports/<exercise>.html``."""
    return chosen or REPORTS_FOLDER / f"{exercise}.html"


def prepare_output(*, as_json: bool, report: bool) -> None:
    """Import (and compile the templates of) what ``show_result`` will use: ~0.1 s of a cold run that
    costs nothing while the grader would only wait for the zygote."""
    if not as_json:
        from grader.outputs import terminal  # noqa: PLC0415, F401
    if report:
        from grader.outputs.html import template_environment  # noqa: PLC0415

        templates = template_environment()
        for name in templates.list_templates(filter_func=lambda name: name.startswith(("_", "base.", "report."))):
            templates.get_template(name)  # the report, its layout and its partials, compiled once


def show_result(result: SubmissionResult, course: Course, *, as_json: bool, summary: bool,
                report: Path | None, who: str | None = None) -> None:
    """Print the result, as Gradescope's results.json (``as_json``) or for a
    person (with a summary table when ``summary``), then write the HTML report
    to ``report`` (None: no report) and say where: on stderr beside JSON, so
    that stdout stays one JSON document. The report is titled after ``who`` (default: the
    submission's name) and the course."""
    worth = {spec.id: spec.points for spec in course.exercises}
    if as_json:
        from grader.outputs.results_json import to_gradescope  # noqa: PLC0415

        click.echo(json.dumps(to_gradescope(result, hidden_visibility=course.hidden_visibility), indent=2))
    else:
        from grader.outputs import terminal  # noqa: PLC0415

        terminal.print_result(terminal.make_console(), result, summary=summary, worth=worth)
    if report is not None:
        from grader.outputs.html import write_html  # noqa: PLC0415

        click.echo(f"HTML report: {write_html(result, report, course_title=course.title, who=who, worth=worth)}",
                   err=as_json)
