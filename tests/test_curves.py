"""Loss curves: found by a reply's shape (losses per epoch, or a train/test
pair), drawn student against reference in the report, carried by results.json;
a hidden test's picture holds no reference value."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from grader.engine.curves import loss_curves, per_epoch
from grader.outputs.html import render_html
from grader.outputs.results_json import from_gradescope, to_gradescope
from grader.results import ExerciseResult, SubmissionResult, TestResult

REFERENCE = ([1.0, 0.6, 0.4, 0.3], [1.1, 0.7, 0.5, 0.45])  # trainer: (train, test)
PILED_UP = ([1.0, 0.6, 0.9, 1.955], [1.1, 0.7, 1.2, 2.0])  # gradients never cleared: apart from epoch 3


def _report(reveal: bool) -> tuple[SubmissionResult, str]:
    curves = loss_curves(REFERENCE, PILED_UP, rtol=1e-5, atol=1e-8, reveal_values=reveal)
    test = TestResult("test_trainer", "trainer returns the losses", 4, False, message="differs",
                      curves=curves, visibility="public" if reveal else "hidden")
    result = SubmissionResult("ken", (ExerciseResult("exercise10", "Trainer", (test,), seed=1),), seed=1)
    return result, render_html(result)


def _points(svg: str, series: str) -> list[tuple[float, float]]:
    found = re.search(rf'<polyline class="{series}" data-series="{series}" points="([^"]*)"', svg)
    return [] if found is None else [tuple(map(float, p.split(","))) for p in found.group(1).split()]


def test_losses_per_epoch_are_found_by_shape_not_by_name():
    assert per_epoch([0.5, 0.4]) == [[0.5, 0.4]] and per_epoch(REFERENCE) == [list(REFERENCE[0]), list(REFERENCE[1])]
    assert per_epoch(0.5) is None and per_epoch([0.5]) is None and per_epoch([[1.0, 2.0], [3.0]]) is None
    assert per_epoch([True, False]) is None and per_epoch({"a": 1}) is None
    assert per_epoch((1.2179, 0.4333)) is None  # a loss and an accuracy (evaluate's answer), not two epochs


def test_a_public_test_draws_both_curves_and_marks_where_they_part():
    _, html = _report(reveal=True)
    svgs = re.findall(r'<figure class="curves">(.*?)</figure>', html, re.S)
    assert len(svgs) == 2  # train and test
    train = svgs[0]
    student, reference = _points(train, "student"), _points(train, "reference")
    assert len(student) == len(reference) == 4
    assert student[:2] == reference[:2] and student[2] != reference[2]  # same path, then apart
    assert student[3][1] < reference[3][1]  # 1.955 above 0.3: higher on the page (smaller y)
    assert re.search(r'<line class="parted" data-epoch="3"', train)
    early = loss_curves([1.0, 0.5, 0.2, 0.1], [2.0, 0.5, 0.2, 0.1], rtol=1e-5, atol=1e-8, reveal_values=True)
    page = render_html(SubmissionResult("ken", (ExerciseResult("exercise9", "A classifier", (
        TestResult("test_train", "train", 2, False, curves=early),), seed=1),), seed=1))
    assert 'text-anchor="start">parts at epoch 1<' in page  # at the left edge: its words run rightwards, not off
    assert "They part at epoch 3" in train and "reference: 1.0, 0.6, 0.4, 0.3" in train
    assert re.search(r'<svg [^>]*role="img" aria-labelledby="[^"]+"', train) and "<desc id=" in train


def test_a_hidden_test_draws_the_students_curve_and_where_it_differs_but_no_reference_value():
    _, html = _report(reveal=False)
    train = re.findall(r'<figure class="curves">(.*?)</figure>', html, re.S)[0]
    assert _points(train, "student") and not _points(train, "reference")
    assert "reference:" not in train and "0.3" not in train and "0.45" not in html
    assert re.findall(r'<circle class="differs" data-epoch="(\d+)" cx="([\d.]+)"', train) == [("3", "205.3"), ("4", "296.0")]  # epochs 3 and 4 of 4
    assert "<title id=\"curve-exercise10-test_trainer-train-title\">train loss per epoch" in train


def test_curves_travel_through_results_json():
    result, _ = _report(reveal=True)
    back = from_gradescope(to_gradescope(result))
    assert back.exercises[0].tests[0].curves == result.exercises[0].tests[0].curves
    assert back.exercises[0].tests[0].curves[0].parted_at == 2
    old = to_gradescope(result)
    del old["extra_data"]["torchgrade"]["exercises"][0]["tests"][0]["curves"]  # a results.json from before curves
    assert from_gradescope(old).exercises[0].tests[0].curves == ()


# Each training exercise with a slip that piles gradients up from epoch to epoch.
PILING_UP = {"exercise5": ("optimizer.zero_grad()", "pass"), "exercise7": ("params.grad = None", "pass"),
             "exercise9": ("optimizer.zero_grad()", "pass"), "exercise10": ("optimizer.zero_grad()", "pass")}


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", sorted(PILING_UP))
def test_a_graded_training_loop_that_piles_gradients_up_is_drawn_against_the_reference(exercise_id, tmp_path):
    """End to end, on the grader's own inputs: every training exercise's report draws the student's losses per
    epoch against the reference's, parting where the gradients pile up (found by the answers' shape, never by
    an exercise's name); a hidden test draws the student's curve and no reference value."""
    root = Path(__file__).resolve().parents[1]
    source = (root / "solutions" / f"{exercise_id}.py").read_text()
    find, replace = PILING_UP[exercise_id]
    assert source.count(find) == 1
    (tmp_path / f"{exercise_id}.py").write_text(source.replace(find, replace))
    report = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "grader", exercise_id, "--submission", str(tmp_path / f"{exercise_id}.py"),
                    "--report", str(report)], cwd=root, capture_output=True, timeout=300, check=False)
    html = report.read_text()
    figures = re.findall(r'<figure class="curves">(.*?)</figure>', html, re.S)
    parted = [f for f in figures if 'class="parted"' in f]
    public = [f for f in parted if _points(f, "reference")]
    assert public, "no public test draws the reference's curve beside the student's"
    student, reference = _points(public[0], "student"), _points(public[0], "reference")
    epoch = int(re.search(r'<line class="parted" data-epoch="(\d+)"', public[0]).group(1))
    assert len(student) == len(reference) >= 3 and epoch >= 1
    assert student[:epoch - 1] == reference[:epoch - 1] and student[epoch - 1] != reference[epoch - 1]
    assert "<script" not in html.lower()
