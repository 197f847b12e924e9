"""Grading one submission on this machine: what ``grade exerciseN`` does."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from grader.course.catalogue import Course, load_course
from grader.sandbox.client import Zygote
from grader.results import SubmissionResult
from grader.course.submissions import Submission, from_path


def grade_local(*, exercise_ids: Sequence[str] | None, submission: Path | None = None,
                course_root: Path | None = None, options=None) -> tuple[Course, SubmissionResult]:
    """Grade the given exercises (all when None) of one submission (the course's
    ``exercises/`` folder by default) and return the course and the result."""
    zygote = Zygote.start()  # first, so it warms up while this process imports torch
    try:
        from grader.engine import runner  # noqa: PLC0415 - after the zygote started

        course = load_course(course_root)
        specs = [course.exercise(i) for i in exercise_ids] if exercise_ids else list(course.exercises)
        chosen: Submission = from_path(submission or course.root / "exercises", [s.filename for s in specs])
        run = runner.grade(course, [chosen], specs, options=options or runner.GradeOptions(), zygote=zygote)
        return course, run.results[0]
    finally:
        zygote.close(wait=False)
