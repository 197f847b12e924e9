"""Pages as a class of 32 on ten exercises would produce them, built from
hand-made results (no grading): the class page, a failing report and a
full-marks report. Shared by the layout checks (test_pages.py) and the
browser test (test_browser.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from grader.record.classbook import REPORT_FILE, sort_key, submission_folder, write_summary
from grader.status import Status
from grader.record.tally import ClassTally
from grader.engine.curves import loss_curves
from grader.outputs.html import write_html
from grader.results import ExerciseResult, SandboxStatus, SubmissionResult, TestResult
from grader.verdicts import Verdict

EXERCISES = [f"exercise{n}" for n in range(1, 11)]
SANDBOX = SandboxStatus(walls=("rlimits", "landlock", "seccomp"))
LONG_HINT = ("Did you call optimizer.zero_grad() before loss.backward()? Gradients pile up across epochs "
             "otherwise, and every step grows.")
LONG_NAME = "Bartholomew-Alexandrovna_Featherstonehaugh-Cholmondeley"


@dataclass(frozen=True)
class Override:
    points: float
    reason: str


OVERRIDE = Override(8.0, "accepted after the deadline: the student showed the work done in the lab, "
                         "signed off by the teaching assistant")
NOTHING_PROBLEM = ("the zip holds none of exercise1.py … exercise10.py (it holds: homework/final_version/"
                   "notes_for_the_grader.txt, homework/final_version/old/attempt_2.ipynb)")


@dataclass
class Row:  # what ClassRecord.each_current yields, as the class page reads it
    result: SubmissionResult
    overrides: dict = field(default_factory=dict)
    total: float | None = None


def _curves(public: bool) -> tuple:
    reference = ([1.0 / (e + 1) for e in range(20)], [1.1 / (e + 1) for e in range(20)])
    piled_up = ([1.0 / (e + 1) + (0.05 * e * e if e > 6 else 0) for e in range(20)], reference[1])
    return loss_curves(reference, piled_up, rtol=1e-5, atol=1e-8, reveal_values=public)


def _tests(exercise_id: str, student: int, failing: bool) -> tuple[TestResult, ...]:
    number = int(exercise_id.removeprefix("exercise"))
    tests = []
    for k in range(1, 4):
        fails = failing and (k == 2 or (student + number + k) % 5 == 0)
        verdict = Verdict.NOT_IMPLEMENTED if fails and student % 11 == 3 else None
        verdict = Verdict.TIME_LIMIT if fails and student % 13 == 4 else verdict
        tests.append(TestResult(
            name=f"test_{exercise_id}_{k}", title=f"check {k} of {exercise_id}: the result matches the reference",
            max_points=[4.0, 4.0, 2.0][k - 1], passed=not fails,
            message="train(...) returned: the result[2] is 1.955, expected 3.101" if fails else "",
            hint=(LONG_HINT if k == 2 else "Mind the shapes.") if fails else None,
            verdict=verdict, visibility="public" if k == 1 else "hidden",
            curves=_curves(k == 1) if number in (5, 10) and k < 3 else ()))
    return tuple(tests)


def student_result(student: int, *, full_marks: bool = False, name: str | None = None) -> SubmissionResult:
    exercises = tuple(
        ExerciseResult(exercise_id, f"Title of {exercise_id}",
                       _tests(exercise_id, student, failing=not full_marks and (student + n) % 3 == 0),
                       seed=7, output="epoch 1 loss 0.5\n" if n == 5 else "")
        for n, exercise_id in enumerate(EXERCISES))
    return SubmissionResult(submission=name or f"student{student:02d}", exercises=exercises, seed=7,
                            sandbox=SANDBOX, elapsed_s=4.2)


def nothing_submitted(name: str) -> SubmissionResult:
    exercises = tuple(ExerciseResult(exercise_id, f"Title of {exercise_id}", (), seed=7, status=Status.REFUSED,
                                     problem=NOTHING_PROBLEM) for exercise_id in EXERCISES)
    return SubmissionResult(submission=name, exercises=exercises, seed=7, sandbox=SANDBOX)


def class_results(size: int = 32) -> list[SubmissionResult]:
    results = [student_result(n, full_marks=n % 4 == 0) for n in range(size - 2)]
    odd = [student_result(size - 2, name=LONG_NAME), nothing_submitted("zoe")]
    return sorted([*results, *odd], key=lambda r: sort_key(r.submission))


def _row(result: SubmissionResult) -> Row:
    if result.submission != "student02":
        return Row(result)
    overrides = {"exercise3": OVERRIDE, "exercise7": OVERRIDE}
    points = [overrides[e.exercise_id].points if e.exercise_id in overrides else e.score for e in result.exercises]
    return Row(result, overrides, sum(points))


def write_pages(out: Path, size: int = 32) -> dict[str, Path]:
    """OUT/index.html and two reports; returns them by kind."""
    results = class_results(size)
    tally = ClassTally()
    for result in results:
        tally.add(result)
    summary = tally.summary(EXERCISES)
    index = write_summary(out / "index.html", summary, map(_row, results), title="Deep learning 101")
    for result in results:
        write_html(result, submission_folder(out, result.submission) / REPORT_FILE, course_title="Deep learning 101")
    failing = next(r for r in results if r.score < r.max_score)
    full = next(r for r in results if r.score == r.max_score)
    return {"class": index, "failing": submission_folder(out, failing.submission) / REPORT_FILE,
            "full": submission_folder(out, full.submission) / REPORT_FILE}
