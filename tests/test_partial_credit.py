"""Points follow how much of an answer is right (issue 28): a trainer right in every value
that tests under torch.no_grad() loses only the small test of the mode the exercise asks
for, and a trainer with one slip keeps the points of what it does right."""
from __future__ import annotations

import pytest

from grader.course.submissions import Submission
from grader.engine import runner

SOLUTION_10 = "solutions/exercise10.py"
SOLUTION_9 = "solutions/exercise9.py"


def _variant(course, tmp_path, solution: str, find: str, replace: str, name: str) -> Submission:
    source = (course.root / solution).read_text()
    assert source.count(find) == 1
    path = tmp_path / name / solution.rsplit("/", 1)[-1]
    path.parent.mkdir()
    path.write_text(source.replace(find, replace))
    return Submission(name=name, files={path.name: path})


@pytest.fixture(scope="module")
def graded(course, zygote, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("partial")
    ten, nine = course.exercise("exercise10"), course.exercise("exercise9")
    tens = [_variant(course, tmp, SOLUTION_10, "torch.inference_mode()", "torch.no_grad()", "no_grad10"),
            _variant(course, tmp, SOLUTION_10, "        optimizer.zero_grad()\n", "", "no_zero_grad10")]
    nines = [_variant(course, tmp, SOLUTION_9, "torch.inference_mode()", "torch.no_grad()", "no_grad9")]
    results = {}
    for spec, submissions in ((ten, tens), (nine, nines)):
        for result in runner.grade(course, submissions, [spec], zygote=zygote).results:
            results[result.submission] = result.exercises[0]
    return results


@pytest.mark.parametrize("name", ["no_grad10", "no_grad9"])
def test_no_grad_costs_only_the_inference_mode_test(graded, name):
    exercise = graded[name]
    failed = [t for t in exercise.tests if not t.passed]
    assert [t.name for t in failed] in (["test_trainer_tests_under_inference_mode"],
                                        ["test_evaluate_under_inference_mode"])
    assert exercise.score == exercise.max_score - 1
    assert "torch.no_grad() records no graph too" in failed[0].message


def test_a_trainer_with_one_slip_keeps_the_points_of_what_it_does_right(graded):
    exercise = graded["no_zero_grad10"]
    assert 0 < exercise.score < exercise.max_score
    assert {t.name for t in exercise.tests if t.passed} >= {"test_trainer_modes", "test_trainer_tests_under_inference_mode"}
