"""A product where a sum belongs (``formulas``), and the last resort of a hint (``localise``): each names
its case and keeps quiet on a near miss."""
from __future__ import annotations

import torch

from grader.engine import formulas, localise


def _module_gradients(forward, state: dict[str, torch.Tensor], x: torch.Tensor) -> dict[str, torch.Tensor]:
    leaves = {n: v.clone().requires_grad_() for n, v in state.items()}
    forward(leaves, x).sum().backward()
    return {n: v.grad for n, v in leaves.items()}


STATE = {"weight1": torch.tensor([0.7]), "weight2": torch.tensor([-1.3]), "bias": torch.tensor([0.2])}
X = torch.linspace(-1, 2, 6)


def _added(p, x):
    return p["bias"] + p["weight1"] * x + p["weight2"] * x


def test_two_parameters_multiplied_together_are_named_and_a_wrong_bias_is_not():
    expected = _module_gradients(_added, STATE, X)
    product = _module_gradients(lambda p, x: p["bias"] + p["weight1"] * p["weight2"] * x, STATE, X)
    words = formulas.multiplied_parameters_words(STATE, expected, product)
    assert words is not None and "multiplies `weight1` by `weight2`" in words
    near = _module_gradients(lambda p, x: 2 * p["bias"] + p["weight1"] * x + p["weight2"] * x, STATE, X)
    assert formulas.multiplied_parameters_words(STATE, expected, near) is None
    assert formulas.multiplied_parameters_words(STATE, expected, expected) is None


def test_a_product_of_sums_is_named_and_a_sum_of_products_off_by_a_factor_is_not():
    x, y, y_hat = torch.linspace(-1, 2, 9), torch.linspace(0, 1, 9), torch.linspace(1, -1, 9)
    dl = 2 * (y_hat - y) / 9
    expected = torch.stack([(dl * x).sum(), dl.sum()])
    product = torch.stack([dl.sum() * x.sum(), dl.sum() * torch.ones_like(x).sum()])
    assert "product of sums" in formulas.product_of_sums_words(expected, product, (x, y, y_hat))
    assert formulas.product_of_sums_words(expected, 2 * expected, (x, y, y_hat)) is None
    assert formulas.product_of_sums_words(expected, expected, (x, y, y_hat)) is None


def test_entries_say_which_is_right_and_a_right_vector_or_a_long_one_gets_nothing():
    expected = torch.tensor([1.5, -0.5])
    words = localise.entries_words(expected, torch.tensor([1.5, 3.0]))
    assert words is not None and "entry 1 is wrong, and entry 0 is right" in words
    none_right = localise.entries_words(expected, torch.tensor([4.5, 3.0]), {0: "is exactly 3 times the expected"})
    assert none_right is not None and "entry 0 is exactly 3 times" in none_right
    assert localise.entries_words(expected, expected.clone()) is None
    assert localise.entries_words(torch.ones(9), torch.zeros(9)) is None  # not a short vector of separate entries


def test_parts_say_which_part_is_right_only_when_some_are():
    parts = ("the training losses", "the test losses")
    words = localise.parts_words(([1.0, 0.5], [2.0, 1.0]), ([1.0, 0.5], [2.0, 1.5]), parts)
    assert words is not None and "training losses is right, and your test losses is not" in words
    assert localise.parts_words(([1.0, 0.5], [2.0, 1.0]), ([1.1, 0.5], [2.0, 1.5]), parts) is None


def test_gradients_name_the_parameters_whose_gradient_differs():
    expected = _module_gradients(_added, STATE, X)
    twice = _module_gradients(lambda p, x: p["bias"] + p["weight1"] * x + 2 * p["weight2"] * x, STATE, X)
    words = localise.gradients_words(expected, twice)
    assert words is not None and "reaching `weight2`" in words and "`weight1` and `bias` is right" in words
    assert localise.gradients_words(expected, expected) is None


def test_a_record_says_how_far_it_is_right():
    assert "The first 2 of your 4 recorded values are right" in localise.record_words([4, 3, 2, 1], [4, 3, 2.5, 2])
    assert "from the very first one on" in localise.record_words([4.0, 3.0, 2.0], [5.0, 3.0, 2.0])
    assert localise.record_words([4.0, 3.0], [4.0, 3.0]) is None
    assert localise.record_words([4.0, 3.0], [4.0, 3.0, 2.0]) is None  # another length: the epochs detectors' case


def test_a_trained_model_says_whether_only_the_returned_value_differs():
    def module(value: float) -> dict:
        return {"is_module": True, "parameters": [{"name": "weight", "value": torch.tensor([value])}]}

    assert "ends with the right parameters" in localise.trained_model_words("model", module(1.0), module(1.0))
    assert "so do the parameters of `model`" in localise.trained_model_words("model", module(1.0), module(2.0))
    assert localise.trained_model_words("model", {"view": "loader"}, module(1.0)) is None
