"""Answer marks: made from the batch's own judgements, carried by the result,
results.json and the class record; equal for equal answers, and saying whose
answer each is (the reference's, a declared mistake's, an unexplained one)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader.course.submissions import Submission
from grader.outputs.results_json import from_plain, to_plain
from grader.record.database import ClassRecord
from grader.record.similarity import current_answer_marks

ROOT = Path(__file__).resolve().parent.parent
EX1 = ROOT / "tests/accuracy/exercise1"


@pytest.fixture(scope="module")
def graded(zygote, course, tmp_path_factory):
    from grader.engine import runner

    folder = tmp_path_factory.mktemp("ex1")
    # A mistake no declaration explains: an n - 1 borrowed from the sample variance.
    unbiased = ("import torch\n\ndef model(x, w, b):\n    return w * x + b\n\n"
                "def loss_fn(y_hat, y):\n    return ((y_hat - y) ** 2).sum() / (y.numel() - 1)\n")
    (folder / "odd_a.py").write_text(unbiased)
    (folder / "odd_b.py").write_text(unbiased.replace("y_hat", "pred").replace("    return ((", "    # n - 1\n    return (("))
    files = {"reference": ROOT / "solutions/exercise1.py", "bias_ignored": EX1 / "wrong_bias_ignored.py",
             "odd_a": folder / "odd_a.py", "odd_b": folder / "odd_b.py"}
    spec = course.exercise("exercise1")
    run = runner.grade(course, [Submission(name=n, files={spec.filename: p}) for n, p in files.items()], [spec],
                       zygote=zygote)
    return {r.submission: r for r in run.results}


def kinds(result) -> set[str]:
    return {mark.split(":")[0] for mark in result.exercises[0].answers}


def test_each_call_gets_a_mark_saying_whose_answer_it_is(graded):
    assert graded["reference"].exercises[0].answers and kinds(graded["reference"]) == {"r"}
    assert "m" in kinds(graded["bias_ignored"]) and "w" not in kinds(graded["bias_ignored"])
    assert "w" in kinds(graded["odd_a"])


def test_the_same_wrong_answers_get_the_same_marks_whatever_the_code_looks_like(graded):
    a, b = graded["odd_a"].exercises[0].answers, graded["odd_b"].exercises[0].answers
    assert a == b
    assert set(a) & set(graded["reference"].exercises[0].answers)  # the model part is right in both
    assert not {m for m in a if m.startswith("w")} & set(graded["bias_ignored"].exercises[0].answers)


def test_marks_travel_through_results_json_and_the_class_record(graded, tmp_path):
    result = graded["odd_a"]
    again = from_plain(json.loads(json.dumps(to_plain(result))))
    assert again.exercises[0].answers == result.exercises[0].answers
    older = to_plain(result)
    del older["exercises"][0]["answers"]  # a results.json written before marks existed
    assert from_plain(older).exercises[0].answers == ()
    with ClassRecord.open(tmp_path) as record:
        run = record.begin_run(grader_version="t", seed=result.seed, course_title="c", course_fingerprint="f",
                               exercise_ids=["exercise1"])
        for r in graded.values():
            record.store(run, r, files_hash="h")
        record.finish_run(run)
        marks = current_answer_marks(record)
    assert marks["exercise1"]["odd_b"] == graded["odd_b"].exercises[0].answers
    assert set(marks["exercise1"]) == set(graded)
