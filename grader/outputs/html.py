"""HTML reports: one self-contained page per submission, rendered from its result.

The page is built by Jinja2 templates in ``grader/outputs/templates`` (one base
layout, small partials) from a ``SubmissionResult`` and nothing else: scores
come from the result's properties (``grader.scoring``), never recomputed here.
The page carries its CSS inline and draws its bars as inline SVG, so it can be
mailed, archived or opened offline, and it reads the same without JavaScript.
"""
from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from grader import scoring
from grader.inert import inert
from grader.outputs.curve_figure import curve_figure
from grader.outputs.files import write_atomic
from grader.words import counted
from grader.results import ExerciseResult, SubmissionResult

TEMPLATES_DIR = Path(__file__).parent / "templates"


def format_points(points: float) -> str:
    """Points as people write them: ``2`` not ``2.0``, ``1.5`` stays ``1.5``."""
    return f"{points:g}"


def scope_line(exercise: ExerciseResult) -> str | None:
    """Where only public tests ran, say so: never "all tests passed"."""
    if exercise.scope != "public":
        return None
    passed = sum(1 for t in exercise.tests if t.passed)
    return (f"public tests: {passed}/{len(exercise.tests)} passed — "
            "hidden tests run when your course grades it")


def checked_locally(exercise: ExerciseResult, worth: float | None) -> str | None:
    """Where only the public tests ran and they are worth less than the exercise: how much of it they check."""
    if exercise.scope != "public" or worth is None or worth <= exercise.max_score:
        return None
    return (f"{format_points(exercise.max_score)} of {format_points(worth)} points are checked locally; "
            f"hidden tests check the other {format_points(worth - exercise.max_score)} when your course grades it")


def report_heading(result: SubmissionResult, course_title: str = "", who: str | None = None) -> str:
    """The report's title: whose work (``who``, else the submission's name) and the course's title."""
    return f"{who or result.submission} — {course_title or 'torchgrade report'}"


def score_state(score: float, max_score: float) -> str:
    """How a score reads at a glance: ``"full"`` marks, ``"partial"`` or ``"none"``."""
    if scoring.full_marks(score, max_score):
        return "full"
    return "partial" if score > 0 else "none"


def _inert_value(value: Any) -> Any:
    if isinstance(value, str) and not isinstance(value, Markup):
        return inert(value, multiline=True)
    return value


@functools.cache
def template_environment() -> Environment:
    """The Jinja2 environment, built once per process.

    Compiled templates are cached by the environment, so a worker that renders
    many reports pays template compilation once, not per submission.
    """
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        # Everything a student controls (messages, output, file names) reaches
        # the page through an expression, so escaping is on for every template.
        autoescape=True,
        # ... and made inert first (grader.inert): no control character or
        # bidi override of a submission reaches the page, whatever built the value.
        finalize=_inert_value,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates do not change under a running grader
    )
    env.filters["points"] = format_points
    env.filters["counted"] = counted
    env.globals["percent"] = scoring.percent
    env.globals["score_state"] = score_state
    env.globals["scope_line"] = scope_line
    env.globals["checked_locally"] = checked_locally
    env.globals["curve_figure"] = curve_figure
    return env


def select_exercises(
    result: SubmissionResult, exercise_ids: Sequence[str] | None
) -> SubmissionResult:
    """The result narrowed to ``exercise_ids`` (in that order), or unchanged.

    The narrowed result is still a ``SubmissionResult``, so its totals come
    from the same scoring functions as the full one's.
    """
    if exercise_ids is None:
        return result
    by_id: dict[str, ExerciseResult] = {e.exercise_id: e for e in result.exercises}
    unknown = [i for i in exercise_ids if i not in by_id]
    if unknown:
        raise ValueError(
            f"{result.submission}: no result for {'exercise' if len(unknown) == 1 else 'exercises'} "
            f"{', '.join(unknown)}; "
            f"this result covers {', '.join(by_id) or 'no exercises'}"
        )
    return dataclasses.replace(result, exercises=tuple(by_id[i] for i in exercise_ids))


def render_html(
    result: SubmissionResult, *, exercise_ids: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None, course_title: str = "", who: str | None = None,
    worth: Mapping[str, float] | None = None,
) -> str:
    """One submission's HTML report, covering ``exercise_ids`` or every exercise.
    ``overrides``: exercise id -> a score set by hand (``.points``, ``.reason``),
    shown beside the grader's points; the total counts them. Titled after ``who``
    (default: the submission's name) and ``course_title``. ``worth``: exercise id -> its
    points in the course, where a student copy checks only part of them."""
    shown = select_exercises(result, exercise_ids)
    overrides = {k: v for k, v in (overrides or {}).items() if any(e.exercise_id == k for e in shown.exercises)}
    total = shown.counted_score({exercise_id: override.points for exercise_id, override in overrides.items()})
    template = template_environment().get_template("report.html.j2")
    return template.render(result=shown, sandbox=shown.sandbox, overrides=overrides, total=total,
                           heading=report_heading(shown, course_title, who), worth=worth or {})


def write_html(
    result: SubmissionResult, path: Path, *, exercise_ids: Sequence[str] | None = None,
    overrides: Mapping[str, Any] | None = None, course_title: str = "", who: str | None = None,
    worth: Mapping[str, float] | None = None,
) -> Path:
    """Render the report and write it to ``path`` atomically; returns ``path``.

    The page goes to a temporary file beside ``path`` and is moved into place
    with ``os.replace``, so a reader (or a crash mid-write) never sees half a
    report. The keywords are ``render_html``'s.
    """
    page = render_html(result, exercise_ids=exercise_ids, overrides=overrides, course_title=course_title, who=who,
                       worth=worth)
    return write_atomic(Path(path), page)
