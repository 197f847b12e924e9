"""grader.engine.diagnosis: how an answer differs, in words, from values alone."""
from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.engine import diagnosis
from grader.engine.diagnosis import (WORDS, carries_no_gradient, diagnose, diagnose_final_state, diagnose_losses,
                                     modified_inputs, returned_copy, swapped_arguments)

EXPECTED = torch.tensor([[0.5, -1.25, 2.0], [1.5, -0.75, 3.0]])  # 6 elements, 2 rows


def kind(expected, got, **sizes):
    found = diagnose(expected, got, **sizes)
    return found.kind if found else None


@pytest.mark.parametrize(("got", "expected_kind"), [
    (-EXPECTED, "sign"),
    (2 * EXPECTED, "double"),
    (EXPECTED / 2, "half"),
    (6 * EXPECTED, "factor_n"),
    (EXPECTED / 6, "factor_1_over_n"),
    (3 * EXPECTED, "factor_len"),  # 6 elements / 2 rows: divided by len()
    (1.7 * EXPECTED, "factor"),
    (EXPECTED + 0.25, "offset"),
    (EXPECTED.clamp(min=0), "clipped"),
    (torch.sigmoid(EXPECTED), "sigmoid"),
    (torch.softmax(EXPECTED, dim=1), "softmax"),
    (torch.log_softmax(EXPECTED, dim=1), "log_softmax"),
    (EXPECTED.T, "transposed"),
    (EXPECTED.reshape(6), "reshaped"),
    (EXPECTED.double(), "float64"),
    (torch.full((2, 3), 0.7), "constant"),  # e.g. dmodel_dw returning w instead of x
])
def test_each_difference_of_a_tensor_is_named(got, expected_kind):
    assert kind(EXPECTED, got, n_elements=6, n_rows=2) == expected_kind


def test_the_same_answer_has_no_diagnosis():
    assert diagnose(EXPECTED, EXPECTED.clone() + 1e-7, n_elements=6) is None


def test_an_unrecognised_difference_has_no_diagnosis():
    assert diagnose(EXPECTED, torch.tensor([[9.0, 1.0, 0.0], [2.0, 7.0, -3.0]])) is None


def test_a_factor_of_n_names_the_count_and_the_averaging():
    message = diagnose(torch.tensor(0.3), torch.tensor(0.3 * 12), n_elements=12, n_rows=3).message
    assert "exactly 12 times too large" in message and "averages" in message


def test_len_on_a_2d_input_is_told_from_a_missing_mean():
    found = diagnose(torch.tensor(0.3), torch.tensor(0.3 * 4), n_elements=12, n_rows=3)
    assert found.kind == "factor_len" and "4 times too large" in found.message and "len()" in found.message


def test_a_single_number_off_by_an_arbitrary_factor_is_not_diagnosed():
    # One number is "a factor" and "an offset" away from any other: no evidence.
    assert diagnose(torch.tensor(0.3), torch.tensor(0.77), n_elements=12) is None


def test_square_root_and_square_of_a_scalar():
    assert kind(torch.tensor(0.64), torch.tensor(0.8)) == "square_root"
    assert kind(torch.tensor(0.8), torch.tensor(0.64)) == "squared"


def test_two_entries_swapped():
    found = diagnose(torch.tensor([0.5, -2.0]), torch.tensor([-2.0, 0.5]))
    assert found.kind == "swapped_entries" and "0 and 1" in found.message


def test_entries_left_unsummed_along_a_dimension():
    per_element = torch.tensor([[0.1, 0.2, 0.3], [1.0, -1.0, 2.0]])
    assert kind(per_element.sum(dim=1), per_element) == "not_summed"
    assert kind(per_element.mean(dim=0), per_element) == "not_averaged"


def test_a_broadcast_shape():
    assert kind(torch.randn(5, 1), torch.randn(5, 5)) == "broadcast"


def test_a_python_number_where_a_tensor_was_expected():
    assert kind(torch.tensor(0.5), 0.5) == "python_number"
    found = diagnose(torch.tensor([0.5, 1.0]), 1)
    assert found.kind == "number_not_tensor" and "(2,)" in found.message
    assert kind(torch.tensor([0.5, 1.0]), "1") is None


def test_a_copy_returned_instead_of_the_argument():
    assert returned_copy(returned_is_argument=False, expected_is_argument=True).kind == "returned_copy"
    assert returned_copy(returned_is_argument=True, expected_is_argument=True) is None
    assert returned_copy(returned_is_argument=False, expected_is_argument=False) is None


def test_swapped_arguments_are_named_as_in_the_signature():
    y_hat, y = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 3.0])
    found = swapped_arguments(2 * (y - y_hat), {("y_hat", "y"): 2 * (y - y_hat)})
    assert found.kind == "swapped_arguments" and "`y_hat` and `y`" in found.message
    assert swapped_arguments(2 * (y_hat - y), {("y_hat", "y"): 2 * (y - y_hat)}) is None


def test_no_gradient():
    assert carries_no_gradient(True, False).kind == "no_gradient"
    assert carries_no_gradient(True, True) is None and carries_no_gradient(False, False) is None


def test_an_input_modified_in_place_is_named():
    x, y = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0])
    found = modified_inputs([x, y, 0.5], [x, y * 2, 0.5], ["x", "y", "w"])
    assert found.kind == "modified_input" and "`y`" in found.message
    assert modified_inputs([x, y], [x.clone(), y.clone()], ["x", "y"]) is None


LOSSES = [4.0, 3.0, 2.25, 1.8, 1.5]


@pytest.mark.parametrize(("got", "variants", "expected_kind"), [
    (LOSSES[:4], {}, "epoch_too_few"),
    ([*LOSSES, 1.3], {"longer": [*LOSSES, 1.3]}, "epoch_too_many"),
    ([*LOSSES[1:], 1.3], {}, "recorded_after_step"),
    ([4.0, 2.5, 1.7, 1.2, 0.9], {"doubled_step": [4.0, 2.5, 1.7, 1.2, 0.9]}, "step_twice"),
    ([4.0, 2.9, 2.6, 2.9, 3.6], {"accumulating": [4.0, 2.9, 2.6, 2.9, 3.6]}, "accumulating"),
    ([4.0, 3.3, 2.5, 2.0, 1.6], {"stale_gradient": [4.0, 3.3, 2.5, 2.0, 1.6]}, "stale_gradient"),
    ([4.0, 3.9, 3.8, 3.7, 3.6], {}, "first_epoch_right"),
])
def test_each_difference_of_a_loss_record_is_named(got, variants, expected_kind):
    found = diagnose_losses(LOSSES, got, **variants)
    assert found is not None and found.kind == expected_kind


def test_a_right_loss_record_and_an_unrelated_one_have_no_diagnosis():
    assert diagnose_losses(LOSSES, list(LOSSES)) is None
    assert diagnose_losses(LOSSES, [9.0, 8.0, 7.0, 6.0, 5.0]) is None


def test_a_variant_is_named_only_when_the_answer_follows_it():
    assert diagnose_losses(LOSSES, [4.0, 3.9, 3.8, 3.7, 3.6], stale_gradient=LOSSES).kind == "first_epoch_right"


PATH = [torch.tensor([0.0, 0.0]), torch.tensor([0.5, 0.1]), torch.tensor([0.8, 0.15]), torch.tensor([0.95, 0.2]),
        torch.tensor([1.0, 0.22])]


@pytest.mark.parametrize(("got", "expected_kind"), [
    (PATH[2], "epoch_too_few"),
    (PATH[4], "epoch_too_many"),
    (PATH[1], "epochs_off"),
])
def test_final_parameters_reached_after_another_number_of_epochs(got, expected_kind):
    found = diagnose_final_state(PATH, got, 3)
    assert found.kind == expected_kind and "3" in found.message


def test_final_parameters_under_a_variation():
    doubled, piled = torch.tensor([1.4, 0.3]), torch.tensor([2.0, 0.5])
    assert diagnose_final_state(PATH, doubled, 3, doubled_step=doubled).kind == "step_twice"
    assert diagnose_final_state(PATH, piled, 3, doubled_step=doubled, accumulating=piled).kind == "accumulating"
    assert diagnose_final_state(PATH, PATH[3], 3, doubled_step=doubled) is None


def test_two_different_mistakes_never_read_the_same():
    assert len(set(WORDS.values())) == len(WORDS)
    openings = [text.split(":")[0] for text in WORDS.values()]
    assert len(set(openings)) == len(openings), "each kind's first clause must already tell it apart"


def test_a_one_row_log_softmax_is_named_not_read_as_a_bias():
    logits = EXPECTED[:1]
    assert kind(logits, torch.log_softmax(logits, dim=1)) == "log_softmax"
    assert kind(logits, logits - 0.7) == "offset"  # near miss: a shift that is no log-softmax


def test_an_activation_is_named_only_where_it_fits():
    assert kind(EXPECTED, torch.sigmoid(EXPECTED) + 0.01) is None  # near miss: not a sigmoid
    assert kind(EXPECTED, torch.softmax(EXPECTED, dim=0)) is None  # near miss: over the other dimension


def test_a_loss_that_never_changes_says_the_model_never_moves():
    falling = [1.0, 0.8, 0.7]
    assert diagnose_losses(falling, [1.0, 1.0, 1.0]).kind == "losses_unchanging"
    assert diagnose_losses(falling, [1.0, 0.9, 0.9]) is None or \
        diagnose_losses(falling, [1.0, 0.9, 0.9]).kind != "losses_unchanging"  # near miss: it moves


def test_a_record_measured_before_each_step_is_one_epoch_behind_and_a_shifted_record_is_not():
    before = [4.5, *LOSSES[:-1]]  # the first before any training, then each the epoch before's
    assert diagnose_losses(LOSSES, before).kind == "recorded_before_step"
    assert diagnose_losses(LOSSES, [4.5, 4.1, 3.1, 2.3, 1.9]) is None  # near miss: no entry the epoch before's
    assert diagnose_losses(LOSSES[:2], [4.5, 4.0]) is None  # two epochs: too little to tell


_shapes = st.lists(st.integers(min_value=0, max_value=3), max_size=4).map(tuple)


@settings(deadline=None)  # torch.broadcast_shapes' first call imports sympy (~0.5 s)
@given(_shapes, _shapes)
def test_broadcasts_to_says_what_torch_broadcast_shapes_says(shape, target):
    try:
        expected = torch.broadcast_shapes(shape, target) == torch.Size(target)
    except RuntimeError:
        expected = False
    assert diagnosis.broadcasts_to(shape, target) is expected
