"""A batch's events are typed records: what a worker writes parses into one, or is reported, never dropped."""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader.commands.batch import local_workers
from grader.commands.batch.events import Graded, Grading, MalformedEvent, Reading, WorkerError, read_worker_line
from grader.commands.batch.worker import graded_event
from grader.results import ExerciseResult, SubmissionResult, TestResult


def a_result(name: str = "ken") -> SubmissionResult:
    tests = (TestResult("test_x", "x works", 5.0, True),)
    return SubmissionResult(name, (ExerciseResult("exercise1", "e", tests, seed=0),), seed=0)


def test_what_a_worker_writes_reads_back_as_its_records():
    graded = read_worker_line(json.dumps(graded_event(a_result())))
    assert isinstance(graded, Graded) and (graded.submission, graded.score, graded.max_score) == ("ken", 5.0, 5.0)
    assert graded.result["submission"] == "ken" and graded.status == "graded"
    assert read_worker_line('{"event": "reading", "submission": "ken"}\n') == Reading("ken")
    assert read_worker_line('{"event": "grading"}') == Grading()
    assert read_worker_line('{"event": "error", "message": "boom"}') == WorkerError("boom")


@pytest.mark.parametrize(("line", "words"), [
    ("hello from a library\n", "not JSON"),
    ("[1, 2]", "not a worker's event"),
    ('{"event": "finished", "submission": "ken"}', "not a worker's event"),
    ('{"event": "graded", "submission": "ken", "result": {}}', "without"),
    ('{"event": "reading", "submission": 7}', "submission is not str"),
    (json.dumps({**graded_event(a_result()), "score": "5"}), "score is not a number"),
    (json.dumps({**graded_event(a_result()), "verdicts": "passed"}), "verdicts are not a list"),
    (json.dumps({**graded_event(a_result()), "status": "excellent"}), "status is not a status"),
])
def test_a_line_that_is_not_an_event_is_refused_with_what_is_wrong(line, words):
    with pytest.raises(MalformedEvent, match=words):
        read_worker_line(line)


def test_a_malformed_line_from_a_local_worker_is_reported_not_dropped():
    outcome = SimpleNamespace(worker_errors=[])
    sink = SimpleNamespace(outcome=outcome, graded=lambda event: True)
    workers = local_workers.LocalWorkers({}, ["true"], 1, lambda event: None, sink)  # type: ignore[arg-type]
    worker = local_workers._Worker(process=None, names=["ken"], log=Path("/dev/null"))  # type: ignore[arg-type]
    workers._handle(worker, "Warning: something printed to fd 1\n")
    assert len(outcome.worker_errors) == 1 and "Warning: something printed" in outcome.worker_errors[0]
    workers._handle(worker, '{"event": "reading", "submission": "ken"}')
    assert worker.reading == "ken"
