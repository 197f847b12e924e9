"""A room that fails mid-request is named with what the grader was asking it: the words are made only
when a failure needs them (``client.Doing``), and they are the same words as ever."""
from __future__ import annotations

import pytest

from grader.engine import runner
from grader.course.submissions import from_path


@pytest.fixture(scope="module")
def ended_during_loss(course, zygote, tmp_path_factory):
    """exercise1 whose loss_fn ends its process: every loss test fails with the room's exit."""
    exercise1 = course.exercise("exercise1")
    folder = tmp_path_factory.mktemp("ends")
    (folder / "exercise1.py").write_text(exercise1.solution.read_text()
                                         + "\n\ndef loss_fn(y_hat, y):\n    import os\n    os._exit(3)\n")
    run = runner.grade(course, [from_path(folder, [exercise1.filename], name="ends")], [exercise1], zygote=zygote)
    return {test.name: test for test in run.results[0].exercises[0].tests}


def test_a_room_that_exits_mid_request_is_named_with_the_requests_it_was_running(ended_during_loss):
    loss = ended_during_loss["test_loss_is_mean_squared_error"]
    assert not loss.passed
    assert ("the submission ended the process (exit status 3) while running "
            "loss_fn(tensor float32 (7,), tensor float32 (7,)) and 3 more") in loss.message, loss.message
    assert ended_during_loss["test_model_with_tensor_parameters"].passed
