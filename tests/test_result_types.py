"""The one result type: a status is one of ``Status``'s values, set where the result is made; a result
crosses processes and files as plain data, read back through one validated conversion that refuses a
malformed one with its reason; no outcome is worked out from a message."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.commands.batch import controller
from grader.commands.batch.events import Graded
from grader.record import classbook
from grader.record.tally import ClassTally
from grader.commands.gradescope import describe_failure
from grader.course.catalogue import CourseError
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.record.database import ClassRecord
from grader.record.planning import Why, plan_run
from grader.results import ExerciseResult, MalformedResult, SubmissionResult, TestResult, from_plain, to_plain
from grader.status import Status
from grader.verdicts import Verdict

IDS = ("exercise1", "exercise2")
SPECS = [SimpleNamespace(id=i, title=i, points=1.0) for i in IDS]  # what failed_result reads of an ExerciseSpec


def _result(name: str = "ann", status: Status = Status.GRADED, problem: str | None = None,
            seed: int = 0) -> SubmissionResult:
    tests = (TestResult("test_a", "a", 1.0, status is Status.GRADED, verdict=None if status is Status.GRADED
                        else Verdict.NOT_SUBMITTED),)
    return SubmissionResult(name, tuple(ExerciseResult(i, i, tests, seed=seed, status=status, problem=problem)
                                        for i in IDS), seed=seed)


def test_a_status_is_one_of_the_enum_s_values():
    assert ExerciseResult("e", "E", (), seed=0, status="refused").status is Status.REFUSED  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'bogus' is not a valid Status"):
        ExerciseResult("e", "E", (), seed=0, status="bogus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="state of the class record"):
        ExerciseResult("e", "E", (), seed=0, status=Status.REMOVED)


def test_a_result_makes_the_round_trip_as_it_is():
    result = _result(status=Status.REFUSED, problem="ann.zip: an entry points outside the zip")
    plain = to_plain(result)
    assert plain["exercises"][0]["status"] == "refused" and "submitted" not in plain["exercises"][0]
    assert from_plain(plain) == result
    assert from_gradescope(to_gradescope(result)) == result
    plain["exercises"][0]["tests"][0]["message"] = "red\x1b[31m"  # text read back is made inert as it is built
    assert from_plain(plain).exercises[0].tests[0].message == "red\\x1b[31m"


@pytest.mark.parametrize(("path", "value", "said"), [
    (("exercises", 0, "status"), "half graded", "$.exercises[0].status"),
    (("exercises", 1, "tests", 0, "verdict"), "exploded", "$.exercises[1].tests[0].verdict"),
    (("exercises", 0, "tests", 0, "max_points"), "ten", "$.exercises[0].tests[0].max_points"),
    (("seed",), None, "$.seed"),
])
def test_a_malformed_result_is_refused_with_the_field_that_is_wrong(path, value, said):
    plain = to_plain(_result())
    *into, last = path
    holder = plain
    for key in into:
        holder = holder[key]
    holder[last] = value
    with pytest.raises(MalformedResult, match=said.replace("[", r"\[").replace("$", r"\$")):
        from_plain(plain)


def _graded(name: str, plain: dict) -> Graded:
    return Graded(submission=name, score=0.0, max_score=1.0, verdicts=(), status="graded", result=plain)


def test_a_worker_s_malformed_result_becomes_a_row_saying_why_not_a_dropped_submission(tmp_path: Path):
    stored: list[SubmissionResult] = []
    events: list[object] = []
    outcome = controller.BatchOutcome(out=tmp_path, summary=ClassTally().summary(IDS))
    sink = controller.ResultSink(outcome, lambda result, **_: stored.append(result), events.append, SPECS, 0)
    plain = to_plain(_result())
    plain["exercises"][0]["status"] = "maybe"
    assert sink.graded(_graded("ann", plain))
    assert [r.submission for r in stored] == ["ann"] and outcome.failed == ["ann"]
    assert all(e.status is Status.GRADER_FAILED for e in stored[0].exercises)
    assert "malformed result" in stored[0].exercises[0].reason and "$.exercises[0].status" in events[0].reason
    # Another submission's result in a graded event is refused as well, as that of the name it came under.
    assert sink.graded(_graded("bob", to_plain(_result("carl"))))
    assert outcome.failed == ["ann", "bob"] and "'carl' came as that of 'bob'" in stored[1].exercises[0].reason


def test_results_json_of_a_version_without_statuses_is_read_with_the_statuses_it_meant():
    def legacy(result: SubmissionResult, submitted: bool) -> dict:
        data = to_gradescope(result)
        for exercise in data["extra_data"]["torchgrade"]["exercises"]:
            exercise.pop("status")
            exercise["submitted"] = submitted
        return data

    refused = from_gradescope(legacy(_result(problem="not a zip"), submitted=False))
    missing = from_gradescope(legacy(_result(problem="exercise1.py was not submitted"), submitted=False))
    graded = from_gradescope(legacy(_result(), submitted=True))
    assert {e.status for e in refused.exercises} == {Status.REFUSED}
    assert {e.status for e in missing.exercises} == {Status.NOT_SUBMITTED}
    assert {e.status for e in graded.exercises} == {Status.GRADED}


def test_the_record_stores_each_status_as_the_result_was_made_with_it(tmp_path: Path):
    # A refusal whose words look like the runner's "was not submitted" is a refusal all the same.
    with ClassRecord.open(tmp_path) as record:
        run = record.begin_run(grader_version="0", seed=0, course_title="C", course_fingerprint="v1",
                               exercise_ids=IDS)
        record.store(run, _result("ann", Status.REFUSED, "ann: the file was not submitted"), files_hash="a")
        record.store(run, classbook.failed_result("bob", SPECS, 0, "it died"), files_hash="b")
        current = {c.submission: c for c in record.current()}
    assert (current["ann"].status, current["ann"].reason) == (Status.REFUSED, "ann: the file was not submitted")
    assert current["bob"].status is Status.GRADER_FAILED and current["bob"].reason == "it died"
    assert current["bob"].result.exercises[0].status is Status.GRADER_FAILED


def test_a_new_seed_is_a_value_of_the_plan_not_a_phrase_in_it(tmp_path: Path):
    with ClassRecord.open(tmp_path) as record:
        run = record.begin_run(grader_version="0", seed=0, course_title="C", course_fingerprint="v1",
                               exercise_ids=IDS)
        record.store(run, _result("ann"), files_hash="a")
        plan = plan_run(record, course_title="C", course_fingerprint="v1", seed=5, exercise_ids=IDS,
                        pending={"ann": "a"})
    assert plan.refused and "another seed than 5" in plan.refusals[0]
    assert set(Why) >= {Why.NEW_SEED} and Why.NEW_SEED == "new seed"


def test_a_failure_of_the_course_is_told_by_the_value_it_carries_not_by_its_class_name():
    class BrokenSuite(CourseError):
        pass

    assert describe_failure(BrokenSuite("exercise3's suite: no test")).startswith("the course it was built from")
