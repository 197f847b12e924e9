"""Results as Gradescope's ``results.json`` (and back).

The Gradescope fields (``score``, ``max_score``, ``execution_time``, a
one-paragraph ``output``, ``tests[]`` with ``name``, ``number``, ``score``,
``max_score``, ``status``, ``output`` and ``visibility``) carry what a
course platform shows; ``extra_data`` carries the full ``SubmissionResult``
so a gradebook or class summary can be rebuilt from the files alone.
"""
from __future__ import annotations

from typing import Any

import re
from collections.abc import Mapping
from grader.inert import inert
from grader.outputs.html import scope_line
from grader.results import ExerciseResult, SubmissionResult, TestResult, from_plain, to_plain
from grader.status import Status

HIDDEN_VISIBILITY = "after_published"  # when students see a hidden test, unless the exercise says otherwise


def to_gradescope(result: SubmissionResult, *, hidden_visibility: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``result`` as Gradescope's results.json. Public tests are ``visible``;
    hidden ones get ``hidden_visibility[exercise_id]`` (default ``after_published``)."""
    tests = []
    numbers = exercise_numbers([e.exercise_id for e in result.exercises])
    for exercise_number, exercise in zip(numbers, result.exercises, strict=True):
        for test_number, test in enumerate(exercise.tests, start=1):
            hidden = (hidden_visibility or {}).get(exercise.exercise_id, HIDDEN_VISIBILITY)
            tests.append({
                "name": f"{exercise.exercise_id}: {test.title}",
                "number": f"{exercise_number}.{test_number}",
                "score": test.points,
                "max_score": test.max_points,
                "status": "passed" if test.passed else "failed",
                "output": test_output(test, exercise),
                "visibility": hidden if test.visibility == "hidden" else "visible",
            })
    return {
        "score": result.score,
        "max_score": result.max_score,
        "execution_time": result.elapsed_s,
        "output": summary_line(result),
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"torchgrade": to_plain(result)},
    }


def exercise_numbers(exercise_ids: list[str]) -> list[int]:
    """Each exercise's number in test numbers ("2.1"): the number its id ends
    with (exercise2 is 2 whether graded alone or with the others), else,
    where ids do not all end with distinct numbers, its position."""
    found = [re.search(r"(\d+)$", exercise_id) for exercise_id in exercise_ids]
    numbers = [int(match.group(1)) if match else 0 for match in found]
    if all(found) and len(set(numbers)) == len(numbers):
        return numbers
    return list(range(1, len(exercise_ids) + 1))


def summary_line(result: SubmissionResult) -> str:
    """One paragraph: the points, why anything could not be graded, the notes."""
    parts = [f"{e.exercise_id} {e.score:g}/{e.max_score:g}" for e in result.exercises]
    text = (f"{inert(result.submission)}: {result.score:g}/{result.max_score:g} points ({', '.join(parts)}); "
            f"seed {result.seed}.")
    problems = dict.fromkeys(_first_line(e.problem) for e in result.exercises if e.problem)
    if problems:
        text += " Not graded: " + "; ".join(problems) + "."
    # A note every exercise carries is about the submission; any other, about its exercise.
    everywhere = set.intersection(*(set(e.notes) for e in result.exercises)) if result.exercises else set()
    notes = dict.fromkeys(_first_line(note) if note in everywhere else f"{e.exercise_id}: {_first_line(note)}"
                          for e in result.exercises for note in e.notes)
    if notes:
        text += " Notes: " + "; ".join(notes) + "."
    scopes = [f"{e.exercise_id} {line}" for e in result.exercises if (line := scope_line(e))]
    if scopes:
        text += " " + "; ".join(scopes) + "."
    if result.sandbox.missing:
        text += " Warning: graded without a complete sandbox: " + "; ".join(result.sandbox.missing)
    return text


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0].rstrip(".")


def test_output(test: TestResult, exercise: ExerciseResult | None = None) -> str:
    """A failed test's message and hint, as the HTML report shows them; first,
    why its exercise could not be graded, where the message does not say it."""
    if test.passed:
        return ""
    lines = [f"[{test.verdict}] {test.message}" if test.verdict else test.message]
    if exercise is not None and exercise.problem and exercise.problem not in test.message:
        lines.insert(0, exercise.problem)
    if test.hint:
        lines.append(f"Hint: {test.hint}")
    return "\n".join(lines)


def legacy_statuses(data: dict[str, Any]) -> dict[str, Any]:
    """``extra_data`` written before results carried their status (torchgrade 0.1 without
    ``status``), with the status those versions worked out: an exercise with ``submitted``
    was graded; a whole entry whose exercises all share one problem that is not the runner's
    "... was not submitted" was refused. Only files of those versions are read this way."""
    exercises = data.get("exercises")
    if not isinstance(exercises, (list, tuple)) or all(isinstance(e, dict) and "status" in e for e in exercises):
        return data
    problems = {e.get("problem") for e in exercises}
    failed = [any(t.get("name") == _LEGACY_GRADER_FAILED_TEST for t in e.get("tests", ())) for e in exercises]
    (problem,) = problems if len(problems) == 1 else (None,)
    refused = (not any(e.get("submitted", True) for e in exercises) and not any(failed) and bool(problem)
               and not str(problem).rstrip(".").endswith("was not submitted"))

    def status(exercise: dict[str, Any], grader_failed: bool) -> Status:
        if grader_failed:
            return Status.GRADER_FAILED
        if refused:
            return Status.REFUSED
        return Status.GRADED if exercise.get("submitted", True) else Status.NOT_SUBMITTED

    return {**data, "exercises": [{**e, "status": e.get("status", status(e, f))}
                                  for e, f in zip(exercises, failed, strict=True)]}


_LEGACY_GRADER_FAILED_TEST = "grader_failed"  # the stand-in test of a grader failure, as those versions named it


def from_gradescope(data: dict[str, Any]) -> SubmissionResult:
    """The result a ``results.json`` carries (``MalformedResult`` if it carries none that is whole)."""
    extra = data.get("extra_data") if isinstance(data, dict) else None
    plain = extra.get("torchgrade") if isinstance(extra, dict) else None
    return from_plain(legacy_statuses(plain) if isinstance(plain, dict) else plain)
