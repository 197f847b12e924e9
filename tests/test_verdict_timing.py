"""Nothing a room sees depends on its verdicts (issue 23, part 10a).

The pause before the next question once told a room whether its last answer
passed: a failure was diagnosed (known mistakes loaded and run, variants
computed, ~700 ms cold) before the next test asked anything. Now a submission's
answers are judged once its rooms are closed. ``tests/hostile/adapts_to_timing.py``
switches to the right model after a long pause; here diagnosing is made slow on
purpose (1 s, as on a cold or busy machine), so that any pause it causes before
the next question is unmistakable.
"""
from __future__ import annotations

import time

from grader.course.submissions import Submission
from grader.engine import judgement, runner
from corpus import HOSTILE

SLOW_DIAGNOSIS_S = 1.0


def test_a_file_that_adapts_to_the_pause_after_its_answers_cannot_raise_its_score(course, zygote, monkeypatch):
    diagnose = judgement.diagnose_difference  # what Judgement.failure calls
    slept = []

    def slow_diagnosis(*args, **kwargs):
        if not slept:  # once is enough to be noticed, and keeps the test short
            slept.append(time.sleep(SLOW_DIAGNOSIS_S))
        return diagnose(*args, **kwargs)

    monkeypatch.setattr(judgement, "diagnose_difference", slow_diagnosis)
    adaptive = Submission("adaptive", {"exercise1.py": HOSTILE / "adapts_to_timing.py"})
    run = runner.grade(course, [adaptive], [course.exercise("exercise1")], zygote=zygote)
    exercise = run.results[0].exercises[0]
    assert [(t.name, t.passed) for t in exercise.tests] == [
        ("test_model_with_tensor_parameters", False), ("test_model_with_float_parameters", False),
        ("test_model_broadcasts_parameters_of_shape_1", False), ("test_loss_is_mean_squared_error", True)]
    assert exercise.score == 3
    # Its failures still read as before: diagnosed, with the student's own words for the slip.
    assert "off by the same amount (+1)" in (exercise.tests[0].hint or "")  # the detectors' words are the hint
