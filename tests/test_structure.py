"""grader.engine.structure: why a module is built differently, each detector with a near miss it must not name."""
from __future__ import annotations

import torch

from grader.engine.structure import diagnose_gradients, diagnose_module


def param(name, shape=(1,), requires_grad=True):
    return {"name": name, "shape": list(shape), "dtype": "float32", "requires_grad": requires_grad,
            "is_parameter": True, "value": torch.zeros(shape)}


def module(*parameters):
    return {"type": "M", "is_module": True, "parameters": list(parameters), "plain_tensors": [], "children": []}


REFERENCE = module(param("weight1"), param("weight2"), param("bias"))
LAYERS = module(param("layer1.weight", (2, 1)), param("layer1.bias", (2,)), param("layer2.weight", (1, 2)),
                param("layer2.bias", (1,)))


def kind(expected, got, source=None):
    found = diagnose_module(expected, got, (lambda: source) if source is not None else None)
    return found.kind if found else None


def test_a_frozen_parameter_is_named_and_a_trainable_one_is_not():
    assert kind(REFERENCE, module(param("weight1"), param("weight2"), param("bias", requires_grad=False))) == "frozen"
    assert kind(REFERENCE, REFERENCE) is None


def test_other_names_of_the_same_shapes_are_named_and_other_shapes_are_not():
    assert kind(REFERENCE, module(param("w1"), param("w2"), param("b"))) == "renamed"
    assert kind(REFERENCE, module(param("w1"), param("w2"), param("b", (2,)))) is None


def test_layers_without_bias_are_named_and_a_missing_layer_is_not():
    assert kind(LAYERS, module(param("layer1.weight", (2, 1)), param("layer2.weight", (1, 2)))) == "no_bias"
    assert kind(LAYERS, module(param("layer1.weight", (2, 1)), param("layer1.bias", (2,)))) is None


def test_no_parameters_at_all_is_told_apart_by_the_code_that_made_it():
    empty = module()
    in_forward = "class M:\n    def forward(self, x):\n        self.layer1 = nn.Linear(1, 2)\n        return x\n"
    in_list = "class M:\n    def __init__(self):\n        self.layers = [nn.Linear(1, 2), nn.Linear(2, 1)]\n"
    elsewhere = "class M:\n    def __init__(self):\n        self.layers = nn.Linear(1, 2)\n"
    assert kind(LAYERS, empty, in_forward) == "layers_in_forward"
    assert kind(LAYERS, empty, in_list) == "plain_container"
    assert kind(LAYERS, empty, elsewhere) == "nothing_registered"


def test_one_parameter_under_two_names_is_named_and_a_forgotten_one_is_not():
    got = module(param("weight1"), param("bias"))
    assert kind(REFERENCE, got, "class M:\n    def __init__(self):\n        self.weight2 = self.weight1\n") == "tied"
    assert kind(REFERENCE, got, "class M:\n    def __init__(self):\n        self.other = self.weight1\n") is None


GRADS = {"weight1": torch.tensor([2.0]), "weight2": torch.tensor([2.0]), "bias": torch.tensor([3.0])}


def test_a_parameter_forward_never_uses_is_named_and_a_wrong_gradient_is_not():
    found = diagnose_gradients(GRADS, {**GRADS, "weight2": None})
    assert found is not None and found.kind == "unused" and "`weight2`" in found.message
    assert diagnose_gradients(GRADS, {**GRADS, "weight2": torch.tensor([5.0])}) is None


def test_a_parameter_used_like_another_is_named_and_equal_reference_gradients_are_not():
    found = diagnose_gradients(GRADS, {**GRADS, "bias": torch.tensor([2.0])})
    assert found is not None and found.kind == "same_gradient" and "`bias`" in found.message
    # weight1 and weight2 share a gradient in the reference too: no evidence of a slip.
    assert diagnose_gradients(GRADS, {**GRADS, "bias": torch.tensor([7.0])}) is None
