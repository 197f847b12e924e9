"""Scoring is pure: points come from here and nowhere else."""
from grader import scoring
from grader.results import ExerciseResult, SubmissionResult, TestResult


def test_a_test_earns_all_or_nothing():
    assert scoring.test_points(True, 2.5) == 2.5
    assert scoring.test_points(False, 2.5) == 0.0


def test_exercise_score_sums_passed_tests_and_rounds_float_noise():
    assert scoring.exercise_score([(True, 0.1), (True, 0.2), (False, 3.0)]) == 0.3
    assert scoring.exercise_max_score([0.1, 0.2, 3.0]) == 3.3


def test_percent_handles_empty_exercises():
    assert scoring.percent(0, 0) == 0.0
    assert scoring.percent(7, 10) == 70.0


def test_results_derive_their_scores():
    tests = (TestResult("a", "A", 3, True), TestResult("b", "B", 2, False))
    exercise = ExerciseResult("exercise1", "E", tests, seed=1)
    result = SubmissionResult("alice", (exercise, exercise), seed=1)
    assert (exercise.score, exercise.max_score, exercise.full_marks) == (3, 5, False)
    assert (result.score, result.max_score) == (6, 10)
