"""The feedback pieces wired into the engine (issue 15): structure matched
apart from behaviour, arguments named as the student named them, mismatches
in our own words with a diagnosis, errors explained at the student's line."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from grader.engine.compare import _tensor_difference
from grader.engine.checks import (Difference, _module_difference, compare_replies, diagnose_difference,
                                  mismatch_words, notebook_cells)
from grader.engine.protocol import Build, Call, Reply
from grader.engine.replies import MalformedReply, read_reply
from grader.sandbox.untrusted import executor

STATE = {"weight1": torch.tensor([1.0]), "weight2": torch.tensor([2.0]), "bias": torch.tensor([3.0])}


class Bais(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight1 = nn.Parameter(torch.randn(1, dtype=torch.float64))
        self.weight2 = nn.Parameter(torch.randn(1))
        self.bais = nn.Parameter(torch.randn(1))


class Aliased(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.layer2 = nn.Linear(2, 1)  # created first: order is no part of the contract
        self.fc1 = nn.Linear(1, 2)
        self.layers = nn.ModuleList([self.fc1, self.layer2])


def test_a_misspelt_or_float64_parameter_is_matched_and_given_the_reference_values():
    model = Bais()
    tensors = executor.load_matched(model, STATE)
    assert set(tensors) == {"weight1", "weight2", "bias"} and tensors["bias"] is model.bais
    assert model.bais.item() == 3.0 and model.weight1.dtype == torch.float32


def test_modules_held_twice_count_once_and_layers_match_by_shape_and_role():
    model = Aliased()
    state = {"layer1.weight": torch.ones(2, 1), "layer1.bias": torch.zeros(2),
             "layer2.weight": torch.ones(1, 2), "layer2.bias": torch.zeros(1)}
    tensors = executor.load_matched(model, state)
    assert tensors["layer1.weight"] is model.fc1.weight and tensors["layer2.bias"] is model.layer2.bias


def test_a_parameter_that_cannot_be_matched_is_named_in_the_students_terms():
    class One(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.zeros(3))

    with pytest.raises(executor.StructureMismatch, match=r"One has no parameter like `bias`.*`w` \(3,\)"):
        executor.load_matched(One(), {"bias": torch.zeros(1)})


def test_arguments_are_named_as_in_the_signature():
    def grad_fn(x, y, *rest):
        return x

    assert executor.argument_names(grad_fn, 4) == ["x", "y", None, None]
    assert executor.argument_names(nn.Linear(1, 1), 1) == ["input"]


def _names_by_inspect(function, count):
    import inspect

    names = []
    try:
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind == parameter.VAR_POSITIONAL:
                break
            if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                names.append(parameter.name)
    except ValueError:
        names = []
    return (names + [None] * count)[:count]


def _wrapper(*args, **kwargs):
    return args


class _Shapes(nn.Module):
    def forward(self, features, /, mask=None, *rest, scale, **options):
        return features

    def stars(*args):
        return args

    def keyword_only(*, key):
        return key

    def nothing():
        return None


def test_plain_functions_are_named_from_their_code_as_inspect_names_them():
    import functools

    functions = [lambda: 0, lambda a, b=1, *c, d, **e: a, lambda a, /, b, *, c: a, _wrapper,
                 functools.wraps(lambda first, second: 0)(_wrapper), _Shapes(), _Shapes().stars,
                 _Shapes().keyword_only, _Shapes().nothing, _Shapes.forward, nn.Linear(1, 1),
                 torch.nn.functional.mse_loss, print]
    for function in functions:
        signed = function.forward if isinstance(function, nn.Module) else function
        for count in (0, 2, 5):
            assert executor.argument_names(function, count) == _names_by_inspect(signed, count), function


def test_argument_names_are_validated_like_every_field():
    request = Call("model", (torch.ones(2), 1.0))
    reply, _ = read_reply(request, {"value": torch.ones(2), "arg_names": ["x", None]})
    assert reply.arg_names == ["x", None]
    for names in (["x"], ["x", 3], "x y"):
        with pytest.raises(MalformedReply):
            read_reply(request, {"value": torch.ones(2), "arg_names": names})
    after = Call("f", (torch.ones(2),), after=True)
    with pytest.raises(MalformedReply, match="returned argument"):
        read_reply(after, {"value": torch.ones(2), "after": [torch.ones(2)], "returns_arg": 1})


def test_a_gradient_is_named_as_the_student_named_the_argument():
    want = Reply(value=torch.ones(3), input_grads=[torch.ones(3), None], param_grads={})
    got = Reply(value=torch.ones(3), input_grads=[2 * torch.ones(3), None], param_grads={})
    difference = compare_replies(want, got, rtol=1e-6, atol=1e-6, names=["x", "w"])
    assert difference.where == "the gradient w.r.t. `x`"


def test_mismatches_are_in_our_own_words():
    words = mismatch_words(torch.tensor(1.0), torch.tensor(2.0), 1e-6, 1e-5)
    assert "expected 1" in words and "Scalars" not in words
    words = mismatch_words(torch.zeros(4), torch.tensor([0.0, 1.0, 0.0, 3.0]), 1e-6, 1e-5)
    assert "2 of 4 elements" in words and "index (3,)" in words


def test_an_argument_changed_in_place_is_diagnosed_by_its_name():
    x = torch.arange(4.0)
    request = Call("dloss_fn", (x, torch.ones(4)), after=True)
    difference = Difference("`y_hat` after the call", "differs", part="after", expected=x.clone(),
                            got=x * 2, index=0)
    assert "changed its argument `y_hat` in place" in diagnose_difference(request, difference, rtol=1e-6, atol=1e-6)


def test_a_factor_of_n_is_diagnosed_from_the_inputs():
    x = torch.randn(3, 4)
    request = Call("loss_fn", (x, x))
    difference = Difference("the result", "differs", expected=torch.randn(3, 4), got=None)
    difference = Difference("the result", "differs", expected=difference.expected, got=difference.expected * 4)
    assert "you divide by len()" in diagnose_difference(request, difference, rtol=1e-6, atol=1e-6)


def test_the_structure_is_described_in_the_students_terms():
    info = lambda model: executor.module_info(model)  # noqa: E731
    reference = nn.Module()
    reference.weight1, reference.bias = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))
    student = nn.Module()
    student.weight1, student.bais = nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))
    difference = _module_difference(info(reference), info(student), 1e-6, 1e-6, "the model", values=False,
                                    tensor_difference=_tensor_difference)
    assert "has no parameter `bias`; it has `bais`" in difference.message


def test_notebook_lines_map_to_cells():
    source = "# cell 2\nimport torch\n\n# cell 5\ndef f():\n    return 1\n"
    assert notebook_cells(source)[6] == (5, 2) and notebook_cells(source)[2] == (2, 1)


def test_a_reference_built_module_reports_gradients_by_reference_names():
    module = type("M", (), {"Bais": Bais})
    state = dict(STATE)
    plain = {"op": "call", "target": {"build": {"target": "Bais", "args": [], "kwargs": {}, "state": state,
                                                "params_of": None}},
             "args": [{"value": torch.ones(2)}], "kwargs": {}, "cotangent": None, "after": False, "autograd": True}
    Bais.forward = lambda self, x: self.bais + self.weight1 * x + self.weight2 * x
    try:
        reply = executor.run_request(module, {**plain, "cotangent": torch.ones(2)}, catch=Exception)
    finally:
        del Bais.forward
    assert set(reply["param_grads"]) == {"weight1", "weight2", "bias"}
    assert torch.equal(reply["value"], torch.tensor([6.0, 6.0]))
    assert Build("Bais").to_plain() == {"target": "Bais", "args": [], "kwargs": {}, "state": None, "params_of": None}


def _subject(source: str):
    from types import ModuleType

    from grader.engine.subjects import ModuleSubject

    module = ModuleType("subject")
    module.__file__ = "/tmp/torchgrade-room/exercise9.py"  # where a sandbox keeps it
    exec(compile("import torch\n" + source, module.__file__, "exec"), module.__dict__)
    return ModuleSubject(module)


def _failure(student: str, reference: str, *requests) -> str:
    from grader.engine.checks import Check, GradeFailure

    check = Check(student=_subject(student), reference=_subject(reference), mistakes=lambda: (), rtol=1e-6,
                  atol=1e-6, student_file="exercise9.py", shown_as="my_answer.py")
    with pytest.raises(GradeFailure) as failure:
        check.same(*requests)
    hint = failure.value.hint
    return f"{failure.value.message}\nhint: {hint}" if hint else failure.value.message


def test_a_variant_the_reference_answers_names_the_slip():
    reference = "def run(n, rate):\n    return torch.tensor(n * rate)\n"
    student = "def run(n, rate):\n    return torch.tensor((n + 1) * rate)\n"
    variants = (("epoch_too_many", {"got": 4, "expected": 3}, Call("run", (4, 0.5))),
                ("step_twice", {}, Call("run", (3, 1.0))))
    message = _failure(student, reference, Call("run", (3, 0.5), variants=variants))
    assert "one epoch too many: 4 epochs where 3 were asked for" in message
    assert Call("run", (3, 0.5), variants=variants).encoded == Call("run", (3, 0.5)).encoded  # never sent


def test_a_record_of_losses_one_epoch_late_is_diagnosed():
    reference = "def train():\n    return [4.0, 3.0, 2.0, 1.0]\n"
    student = "def train():\n    return [3.0, 2.0, 1.0, 0.5]\n"
    assert "measured after the step" in _failure(student, reference, Call("train"))


def test_a_students_error_is_explained_at_their_own_line():
    reference = "def model(x):\n    return 2 * x\n"
    student = "def model(x):\n    x.mul_(2)\n    return x\n"
    message = _failure(student, reference, Call("model", (torch.ones(3, requires_grad=True),)))
    assert "is changed in place" in message and "PyTorch said: RuntimeError: a leaf Variable" in message
    assert 'File "my_answer.py", line 3, in model' in message and "/tmp/torchgrade" not in message


def test_parameters_of_one_shape_are_matched_by_role_not_by_creation_order():
    class Affine(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bias_b = nn.Parameter(torch.zeros(2))  # created first
            self.weight_w = nn.Parameter(torch.zeros(2))

    model = Affine()
    tensors = executor.load_matched(model, {"weight": torch.ones(2), "bias": torch.full((2,), 5.0)})
    assert tensors["weight"] is model.weight_w and model.bias_b.tolist() == [5.0, 5.0]


def test_layers_built_in_a_container_first_are_found_under_their_attribute_names():
    class Reference(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer1, self.layer2 = nn.Linear(1, 2), nn.Linear(2, 1)

    class SequentialFirst(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = nn.Sequential(nn.Linear(1, 2), nn.Linear(2, 1))
            self.layer1, self.layer2 = self.net[0], self.net[1]

    class Renamed(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(1, 2), nn.Linear(2, 1)

    reference = executor.module_info(Reference())
    assert _module_difference(reference, executor.module_info(SequentialFirst()), 1e-6, 1e-6, "", False,
                              _tensor_difference) is None
    renamed = _module_difference(reference, executor.module_info(Renamed()), 1e-6, 1e-6, "", False, _tensor_difference)
    assert "has no parameter `layer1.weight`" in renamed.message


def _hint_for_error(student: str, *, error_hint_for: tuple[str, ...] = ()) -> str | None:
    """The hint of a failure where the student's code and a known mistake's raise the same error."""
    from grader.course.catalogue import MistakeSpec
    from grader.engine.checks import Check, GradeFailure
    from grader.engine.subjects import Mistake

    reference = "def grad(w):\n    w = w.clone().requires_grad_()\n    (w * w).sum().backward()\n    return w.grad\n"
    mutant = reference.replace("(w * w)", "(w.detach() * w.detach())")
    spec = MistakeSpec(id="detached", hint="DETACH HINT", find="(w * w)", replace="(w.detach() * w.detach())")
    check = Check(student=_subject(student), reference=_subject(reference),
                  mistakes=lambda: (Mistake(spec, _subject(mutant)),), rtol=1e-6, atol=1e-6,
                  student_file="exercise9.py", source=lambda: student)
    with pytest.raises(GradeFailure) as failure:
        check.same(Call("grad", (torch.ones(3),)), error_hint="ERROR HINT", error_hint_for=error_hint_for)
    return failure.value.hint


def test_a_known_mistakes_hint_for_an_error_needs_the_code_that_makes_it():
    # The same error ("does not require grad") from a requires_grad left out: no .detach() hint.
    no_requires_grad = "def grad(w):\n    w = w.clone()\n    (w * w).sum().backward()\n    return w.grad\n"
    assert _hint_for_error(no_requires_grad) == "ERROR HINT"
    detached = "def grad(w):\n    v = w.clone().requires_grad_()\n    (v.detach() ** 2).sum().backward()\n"
    assert _hint_for_error(detached) == "DETACH HINT"


def test_an_error_hint_fires_only_on_the_students_own_errors_of_its_kind():
    stub = "def grad(w):\n    raise NotImplementedError('grad: the gradient')\n"
    assert _hint_for_error(stub) is None
    assert _hint_for_error("x = 1\n") is None  # a notebook that never defines the function
    other_error = "def grad(w):\n    return w.view(5)\n"
    assert _hint_for_error(other_error, error_hint_for=("no_grad_fn",)) is None
    no_graph = "def grad(w):\n    w = w.clone()\n    (w * w).sum().backward()\n    return w.grad\n"
    assert _hint_for_error(no_graph, error_hint_for=("no_grad_fn",)) == "ERROR HINT"


STEP = "def step(p, x):\n    with torch.no_grad():\n        p -= 0.1 * {scale}(p - x.mean())\n"


def test_a_parameter_left_where_it_started_never_moves():
    start, data = torch.tensor([1.0, 2.0]), torch.arange(6.0)
    message = _failure("def step(p, x):\n    pass\n", STEP.format(scale=""), Call("step", (start, data), after=True))
    assert "never moves" in message
    near = _failure(STEP.format(scale="0.5 * "), STEP.format(scale=""), Call("step", (start, data), after=True))
    assert "never moves" not in near and "0.5 times as far" in near


def test_a_step_as_many_times_too_large_as_there_are_samples_is_a_sum_for_a_mean():
    start, data = torch.tensor([1.0, 2.0]), torch.arange(6.0)
    message = _failure(STEP.format(scale="6 * "), STEP.format(scale=""), Call("step", (start, data), after=True))
    assert "6 is the number of samples" in message
    near = _failure(STEP.format(scale="5 * "), STEP.format(scale=""), Call("step", (start, data), after=True))
    assert "number of samples" not in near


def test_parameters_of_another_shape_or_a_wider_layer_still_have_their_computation_graded():
    class Scalars(nn.Module):  # 0-dim and (1, 1) where (1,) is asked for: the same values in another shape
        def __init__(self) -> None:
            super().__init__()
            self.weight1, self.weight2 = nn.Parameter(torch.randn(())), nn.Parameter(torch.randn(1, 1))
            self.bias = nn.Parameter(torch.randn(1), requires_grad=False)  # frozen: the structure test's to say

    model = Scalars()
    tensors = executor.load_matched(model, STATE)
    assert model.weight1.item() == 1.0 and model.weight2.shape == (1, 1) and model.bias.requires_grad
    assert tensors.shapes["weight1"] == (1,)
    wide = nn.Sequential(nn.Linear(1, 4), nn.Linear(4, 1))
    narrow = nn.Sequential(nn.Linear(1, 2), nn.Linear(2, 1))
    executor.load_matched(wide, dict(narrow.state_dict()))
    x = torch.randn(5, 1)
    assert torch.allclose(wide(x), narrow(x))  # the extra hidden units hold zeros: the same function


def test_a_missing_bias_is_left_out_but_a_narrower_layer_cannot_be_matched():
    state = dict(nn.Linear(1, 2).state_dict())
    tensors = executor.load_matched(nn.Linear(1, 2, bias=False), state)
    assert set(tensors) == {"weight"}
    with pytest.raises(executor.StructureMismatch, match="has no parameter like `weight`"):
        executor.load_matched(nn.Linear(1, 1), state)  # its values would stay unknown


def test_a_model_in_float64_throughout_runs_with_its_own_dtype_when_float32_makes_it_fail():
    import types

    module = types.ModuleType("exercise")
    exec("import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.layer = nn.Linear(1, 1).double()\n"
         "    def forward(self, x):\n        return self.layer(x.double())\n", module.__dict__)
    state = {"layer.weight": torch.ones(1, 1), "layer.bias": torch.zeros(1)}
    reply = executor.run_request(module, Call(Build("Net", state=state), (torch.ones(2, 1),)).to_plain())
    assert "error" not in reply and reply["value"].dtype == torch.float64
    mixed = types.ModuleType("exercise")  # float64 forced on nothing: float32 as the reference has it
    exec("import torch\nfrom torch import nn\nclass Net(nn.Module):\n    def __init__(self):\n"
         "        super().__init__()\n        self.layer = nn.Linear(1, 1).double()\n"
         "    def forward(self, x):\n        return self.layer(x)\n", mixed.__dict__)
    reply = executor.run_request(mixed, Call(Build("Net", state=state), (torch.ones(2, 1),)).to_plain())
    assert "error" not in reply and reply["value"].dtype == torch.float32


def test_an_argument_replaced_by_a_hard_coded_one_is_named_and_a_near_miss_is_not():
    reference = "def train(loss_fn, y_hat, y):\n    return loss_fn(y_hat, y).item()\n"
    own = "def train(loss_fn, y_hat, y):\n    return torch.nn.functional.mse_loss(y_hat, y).item()\n"
    near = "def train(loss_fn, y_hat, y):\n    return 2 * loss_fn(y_hat, y).item()\n"
    y_hat, y = torch.randn(6), (torch.randn(6) > 0).float()
    ignored = (("argument_ignored", {"other": "nn.MSELoss()", "name": "loss_fn"},
                Call("train", (Build("torch.nn.MSELoss"), y_hat, y))),)
    request = Call("train", (Build("torch.nn.BCEWithLogitsLoss"), y_hat, y), variants=ignored)
    assert "instead of the `loss_fn` it was given" in _failure(own, reference, request)
    assert "instead of the `loss_fn`" not in _failure(near, reference, request)


def _probes(*training: bool) -> dict:
    records = [{"training": t, "grad": t, "inference": False, "batch": 4} for t in training]
    return {"probes": [{"name": "model", "calls": len(records), "records": records}]}


def test_a_mode_switched_too_late_is_told_as_too_late_and_a_missing_switch_is_not():
    from grader.engine.checks import _probes_difference

    want = _probes(True, False, True, False)
    late = _probes(True, False, False, True)  # model.train() called, but after the training pass
    never = _probes(True, False, False, False)  # model.train() never called again
    assert "does call model.train(), but too late" in _probes_difference(want, late, "m:").message
    words = _probes_difference(want, never, "m:").message
    assert "too late" not in words and "model.train() switches back" in words
