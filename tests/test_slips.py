"""grader.engine.slips: formula slips read from the call's arguments, each with a near miss it must not name."""
from __future__ import annotations

import torch

from grader.engine.slips import diagnose_kind, diagnose_slip

Y_HAT = torch.tensor([0.5, -1.0, 2.0, 0.25, 1.5])
Y = torch.tensor([1.0, 0.5, 1.0, -0.75, 1.0])
GAP = Y_HAT - Y
MSE = (GAP ** 2).mean()


def kind(expected, got, args=(Y_HAT, Y), names=("y_hat", "y"), n_elements=5):
    found = diagnose_slip(expected, got, args, names, n_elements=n_elements)
    return found.kind if found else None


def test_dividing_by_n_minus_one_is_named_and_another_factor_is_not():
    assert kind(MSE, (GAP ** 2).sum() / 4) == "divides_by_n_minus_one"
    assert kind(MSE, (GAP ** 2).sum() / 3) is None


def test_a_reduction_along_one_dimension_is_named_and_a_wrong_value_in_it_is_not():
    column = GAP.reshape(5, 1)
    assert kind(MSE, (column ** 2).mean(dim=0)) == "kept_dimension"
    assert kind(MSE, (column ** 2).sum(dim=0)) is None


def test_absolute_and_unsquared_differences_are_named_against_a_mean_of_squares():
    assert kind(MSE, GAP.abs().mean()) == "absolute_difference"
    assert kind(MSE, GAP.mean()) == "difference_not_squared"
    assert kind(MSE, (-GAP).mean()) == "difference_not_squared"


def test_no_square_slip_is_named_when_the_reference_is_not_a_mean_of_squares():
    cubes = (GAP ** 3).mean()  # a reference of another formula: its abs() is no evidence
    assert kind(cubes, GAP.abs().mean()) is None


def test_a_constant_answer_equal_to_an_argument_is_named_with_its_name():
    x, w, b = torch.tensor([1.0, -2.0, 0.5]), torch.tensor(1.5), torch.tensor(-0.25)
    found = diagnose_slip(x, torch.full((3,), 1.5), (x, w, b), ("x", "w", "b"))
    assert found is not None and found.kind == "argument_repeated" and "`w`" in found.message
    assert diagnose_slip(x, torch.full((3,), 0.7), (x, w, b), ("x", "w", "b")) is None


def test_one_number_where_a_list_is_expected_is_named_and_a_list_is_not():
    found = diagnose_kind([0.5, 0.4, 0.3], 0.3)
    assert found is not None and found.kind == "number_not_list" and "3 numbers" in found.message
    assert diagnose_kind([0.5, 0.4, 0.3], [0.5, 0.4]) is None
    assert diagnose_kind(0.5, [0.5]).kind == "list_not_number"


def test_one_entry_copied_into_the_others_is_named_and_a_constant_of_another_value_is_not():
    expected = torch.tensor([1.25, -0.5])
    found = diagnose_slip(expected, torch.tensor([1.25, 1.25]), (), None)
    assert found is not None and found.kind == "entry_copied" and "entry 0" in found.message
    assert diagnose_slip(expected, torch.tensor([0.75, 0.75]), (), None) is None
