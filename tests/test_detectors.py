"""The generic detectors for mistakes no course lists (issue 28): each names its case and keeps
quiet on a near miss; their words reach the student as the failure's hint."""
from __future__ import annotations

import pytest
import torch

from grader.engine import detectors
from grader.engine.checks import Difference
from grader.engine.evidence import cause_shows_in
from grader.engine.protocol import Call


def test_a_model_whose_every_parameter_starts_at_zero_is_named_and_one_random_value_is_not():
    reference = [torch.randn(1), torch.randn(1)]
    assert detectors.starts_at_zero(reference, [torch.zeros(1), torch.zeros(1)])
    assert not detectors.starts_at_zero(reference, [torch.zeros(1), torch.randn(1)])
    assert not detectors.starts_at_zero([torch.zeros(1), torch.zeros(1)], [torch.zeros(1), torch.zeros(1)])


@pytest.mark.parametrize(("where", "message", "kind"), [
    ("the result[0]", "is a tensor of shape (), expected a Python float", "a Python float is asked for"),
    ("the result", "is a list, expected a torch.Tensor of shape (2,)", "a list (a Python list) where one tensor"),
    ("the result", "has shape (), expected (9,)", "one value per element"),
    ("", "Model has no parameter `layer1.weight`; it has `fc1.weight`", "does not register `layer1.weight`"),
    ("", "Model has no parameter `weight2`", "does not register `weight2`"),
    ("", "Model has an extra parameter the exercise does not ask for: `w3` (w3 (1,))", "does not ask for (`w3`)"),
    ("", "Model's parameter `layer1.weight` has shape (1, 2), expected (2, 1)", "(out_features, in_features)"),
    ("the validation loader", "has batches of 1, expected 10", "Your validation loader gives batches of 1"),
    ("the validation loader", "shuffles its samples: it should give them in order", "only the training loader"),
    ("the split behind the training loader", "holds 16 samples, expected 17", "how they round matters"),
    ("the gradient w.r.t. `w`", "is None, expected a torch.Tensor of shape ()", "No gradient reaches `w`"),
])
def test_a_difference_whose_words_show_the_mistake_gets_its_cause(where, message, kind):
    assert kind in detectors.difference_words(Difference(where, message))


@pytest.mark.parametrize(("where", "message"), [
    ("the result[0]", "is a str, expected a Python float"),
    ("the result", "has shape (3,), expected (9,)"),  # a shape the diagnosis reads, not a single number
    ("the validation loader", "gives 3 batches, expected 4"),
    ("the gradient w.r.t. `w`", "has shape (2,), expected (1,)"),
])
def test_a_near_miss_of_a_difference_gets_no_words(where, message):
    assert detectors.difference_words(Difference(where, message)) is None


def test_a_dataset_item_with_changed_values_is_named_and_a_batch_or_another_dtype_is_not():
    given = torch.tensor([5.1, 3.5, 1.4, 0.2])
    normalised = (given - given.mean()) / given.std()
    item = Difference("part 1 of item 0 of the result", "differs", expected=given, got=normalised)
    assert "normalising" in detectors.changed_data_words(item)
    batch = Difference("part 1 of batch 0 of the training loader", "differs", expected=given, got=normalised)
    assert detectors.changed_data_words(batch) is None
    doubled = Difference("part 1 of item 0 of the result", "differs", expected=given, got=given.double())
    assert detectors.changed_data_words(doubled) is None


def test_one_forward_call_more_per_epoch_is_named_and_other_counts_are_not():
    assert "once more per epoch" in detectors.extra_calls_words((5, 5), 10, 15)
    assert detectors.extra_calls_words((5, 5), 10, 13) is None  # not one per epoch
    assert detectors.extra_calls_words((5, 6), 10, 15) is None  # another number of epochs


def test_an_errors_cause_needs_the_code_that_makes_it():
    assert cause_shows_in("inplace_leaf", "def f(x):\n    x += 1\n")
    assert not cause_shows_in("inplace_leaf", "def f(x):\n    return x + 1  # not x += 1\n")
    assert cause_shows_in("no_kernel", "def f(t):\n    return t ^ 2\n")
    assert not cause_shows_in("no_kernel", "def f(t):\n    return t.log_softmax(0)\n")
    assert not cause_shows_in("broadcast", "def f(t):\n    return t + t.T\n")  # no code makes it certain


def _failure(student: str, reference: str, *requests):
    from test_feedback_wiring import _subject

    from grader.engine.checks import Check, GradeFailure

    check = Check(student=_subject(student), reference=_subject(reference), mistakes=lambda: (), rtol=1e-6,
                  atol=1e-6, student_file="exercise9.py", shown_as="my_answer.py", source=lambda: student)
    with pytest.raises(GradeFailure) as failure:
        check.same(*requests)
    return failure.value


def test_a_detectors_reading_of_the_difference_is_the_hint():
    failure = _failure("def loss(a, b):\n    return ((a - b) ** 2).sum()\n",
                       "def loss(a, b):\n    return ((a - b) ** 2).mean()\n", Call("loss", (torch.ones(4), torch.zeros(4))))
    assert "4 times too large" in failure.hint and "times too large" not in failure.message


def test_an_errors_cause_is_the_hint_only_with_the_code_that_makes_it():
    reference = "def f(t):\n    return t * 2\n"
    xor = _failure("def f(t):\n    return t ^ 2\n", reference, Call("f", (torch.ones(2),)))
    assert "`^` is exclusive or" in xor.hint and "PyTorch said" in xor.message
    no_xor = _failure("def f(t):\n    return torch.bitwise_xor(t, t)\n", reference, Call("f", (torch.ones(2),)))
    assert no_xor.hint is None and "`^` is exclusive or" in no_xor.message  # explained, but no `^`: no hint


def test_integers_in_a_float_operation_are_swapped_loss_arguments_only_where_a_loss_is_called():
    reference = "def f(p, t):\n    return torch.nn.functional.cross_entropy(p, t)\n"
    args = (torch.randn(3, 2), torch.tensor([0, 1, 1]))
    swapped = _failure("def f(p, t):\n    loss_fn = torch.nn.CrossEntropyLoss()\n    return loss_fn(t, p)\n",
                       reference, Call("f", args))
    assert "arguments swapped" in swapped.hint
    no_loss = _failure("def f(p, t):\n    return t.log_softmax(0)\n", reference, Call("f", args))
    assert no_loss.hint is None and "arguments swapped" in no_loss.message


def test_a_variant_with_one_input_in_place_of_another_names_the_data_used():
    reference = "def run(train, test):\n    return float(test.sum())\n"
    student = "def run(train, test):\n    return float(train.sum())\n"
    train, test = torch.ones(3), torch.zeros(2)
    used = ("data_in_place_of", {"used": "the training data", "instead": "the test data"}, Call("run", (train, train)))
    failure = _failure(student, reference, Call("run", (train, test), variants=(used,)))
    assert "the training data is used in place of the test data" in failure.hint
    near = _failure("def run(train, test):\n    return float(train.sum() + 1)\n", reference,
                    Call("run", (train, test), variants=(used,)))
    assert "in place of" not in (near.hint or "")


def test_a_known_mistakes_hint_is_shown_when_it_leads_the_hint():
    from grader.engine.evidence import shows_hint

    assert shows_hint("KNOWN", "KNOWN") and shows_hint("KNOWN\nYour answer is 4 times too large", "KNOWN")
    assert not shows_hint("KNOWN MORE", "KNOWN") and not shows_hint("OTHER\nKNOWN", "KNOWN")
    assert not shows_hint(None, "KNOWN")


def test_a_parameter_the_forward_leaves_out_is_named_and_a_wrong_factor_is_not():
    from grader.engine.checks import Build

    reference = ("class M(torch.nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                 "        self.a, self.b = torch.nn.Parameter(torch.ones(1)), torch.nn.Parameter(torch.ones(1))\n"
                 "    def forward(self, x):\n        return {}\n")
    state = {"a": torch.tensor([2.0]), "b": torch.tensor([3.0])}
    request = Call(Build("M", state=state), (torch.arange(4.0),))
    left_out = _failure(reference.format("self.a * x"), reference.format("self.a * x + self.b * x"), request)
    assert "leaves `b` out" in left_out.hint
    scaled = _failure(reference.format("self.a * x + 2 * self.b * x"), reference.format("self.a * x + self.b * x"),
                      request)
    assert "leaves" not in (scaled.hint or "")


def test_the_wrong_argument_returned_is_named_and_a_computed_answer_is_not():
    reference = "def d(x, w, b):\n    return x.clone()\n"
    x, w, b = torch.arange(1.0, 5.0), torch.tensor(2.0), torch.tensor(0.5)
    wrong = _failure("def d(x, w, b):\n    return w * torch.ones_like(x)\n", reference, Call("d", (x, w, b)))
    assert "returns (or builds from) w instead of x" in wrong.hint
    near = _failure("def d(x, w, b):\n    return 2 * w * torch.ones_like(x)\n", reference, Call("d", (x, w, b)))
    assert "instead of x" not in (near.hint or "")


def test_a_negative_loss_is_named_and_a_positive_wrong_one_is_not():
    assert "squared" in detectors.negative_words(torch.tensor(0.8), torch.tensor(-0.5))
    assert detectors.negative_words(torch.tensor(0.8), torch.tensor(0.5)) is None
    assert detectors.negative_words(torch.tensor([0.8, 1.0]), torch.tensor([-0.5, 1.0])) is None
    assert detectors.negative_words(torch.tensor([[0.8]]), torch.tensor([[-0.5]])) is None  # a model's one output


def test_a_measuring_pass_that_records_a_graph_trains_only_where_backward_is_called_twice():
    recorded = "in forward call 2 of 10, the model recorded gradients (autograd built a graph), expected none"
    twice = "loss.backward()\noptimizer.step()\ntest_loss.backward()\n"
    assert "in 2 places" in detectors.trains_where_it_measures(recorded, twice)
    assert detectors.trains_where_it_measures(recorded, "loss.backward()  # not test_loss.backward()\n") is None
    assert detectors.trains_where_it_measures("the model ran 12 times", twice) is None


def test_an_argument_of_a_shape_that_cannot_broadcast_is_no_candidate():
    assert detectors.returned_argument_words(torch.ones(9), torch.zeros(9), (torch.ones(2), torch.zeros(9)),
                                             ("a", "b")) is None


def test_a_single_output_is_never_read_as_a_parameter_left_out():
    from grader.engine.checks import Build

    request = Call(Build("M", state={"a": torch.ones(1), "b": torch.ones(1)}), (torch.ones(1, 1),))
    assert detectors.parameter_variants(request, torch.tensor([[0.5]])) == ()
    assert len(detectors.parameter_variants(request, torch.tensor([[0.5], [0.7]]))) == 2


def test_answers_that_add_the_previous_calls_are_carried_over_and_independent_ones_are_not():
    want = [torch.tensor([1.0, 2.0]), torch.tensor([3.0, 1.0])]
    assert "kept from one call to the next" in detectors.carried_over_words(want, [want[0], want[1] + want[0]])
    assert detectors.carried_over_words(want, [want[0], want[1] * 2]) is None
    assert detectors.carried_over_words(want, want) is None


def test_a_fraction_of_0_from_max_values_is_named_only_where_the_code_compares_values():
    values = "correct = (logits.max(dim=1)[0] == y).sum()\n"
    assert "its index" in detectors.code_backed_words("is 0, expected 0.433333", values)
    assert detectors.code_backed_words("is 0, expected 0.433333", "correct = (logits.argmax(1) == y).sum()\n") is None
    assert detectors.code_backed_words("is 0.1, expected 0.433333", values) is None
    assert detectors.code_backed_words("is 0, expected 0.433333", "_, index = logits.max(1)\n") is None


def test_a_vector_with_one_wrong_entry_is_partly_right_and_an_all_wrong_one_is_not():
    assert "Only entry 1 of your answer is wrong" in detectors.partly_right_words(torch.tensor([1.0, 2.0]),
                                                                                  torch.tensor([1.0, 2.5]))
    assert detectors.partly_right_words(torch.tensor([1.0, 2.0]), torch.tensor([1.5, 2.5])) is None
    assert detectors.partly_right_words(torch.arange(6.0), torch.arange(6.0) * torch.tensor([1, 1, 1, 1, 1, 2])) \
        is None  # a long vector: one value per element, not separately computed entries


def test_batches_made_equally_large_turn_a_fraction_of_samples_into_the_mean_of_the_batches():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "suites" / "test_exercise9.py"
    spec = importlib.util.spec_from_file_location("suite_exercise9", path)
    suite = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(suite)
    X, y = torch.arange(23.0).unsqueeze(1), torch.arange(23) % 2
    right = (X.squeeze(1) % 3 == 0).long() == y  # which samples a model gets right
    size, (X2, y2) = suite._batches_equalised((X, y), 10)
    assert size == 30
    per_batch = torch.stack([right[i:i + 10].float().mean() for i in range(0, 23, 10)]).mean()
    right2 = (X2.squeeze(1) % 3 == 0).long() == y2
    assert torch.isclose(right2.float().mean(), per_batch)  # what the variant's reference answers
    assert not torch.isclose(right.float().mean(), per_batch)  # and the fraction of samples differs


def test_a_models_output_from_code_with_dropout_is_named_and_a_function_or_code_without_it_is_not():
    from grader.engine.checks import Build

    model = Call(Build("Task2"), (torch.ones(5, 1),))
    assert "dropout" in detectors.dropout_words(model, "self.drop = nn.Dropout(0.5)\n")
    assert detectors.dropout_words(model, "# no nn.Dropout(0.5) here\nself.layer1 = nn.Linear(1, 2)\n") is None
    assert detectors.dropout_words(Call("train", (torch.ones(2),)), "nn.Dropout(0.5)\n") is None


def test_a_variant_the_recordings_do_not_hold_is_skipped_not_a_grader_error():
    from test_feedback_wiring import _subject

    from grader.engine.checks import Check, GradeFailure
    from grader.engine.recordings import MissingRecording

    reference = _subject("def run(train, test):\n    return float(test.sum())\n")

    class Recorded:  # answers the graded call only, as a student copy's recordings do
        def run(self, request):
            if request.args[1].numel() == 3:
                raise MissingRecording("not recorded")
            return reference.run(request)

        def run_many(self, requests):
            return [self.run(r) for r in requests]

    student = _subject("def run(train, test):\n    return float(train.sum())\n")
    check = Check(student=student, reference=Recorded(), mistakes=lambda: (), rtol=1e-6, atol=1e-6)
    train, test = torch.ones(3), torch.zeros(2)
    used = ("data_in_place_of", {"used": "the training data", "instead": "the test data"}, Call("run", (train, train)))
    with pytest.raises(GradeFailure) as failure:
        check.same(Call("run", (train, test), variants=(used,)))
    assert "in place of" not in (failure.value.hint or "") and "expected 0" in failure.value.message


def _one_epoch(step_inside: bool) -> str:
    step = "        optimizer.step()\n" if step_inside else ""
    after = "" if step_inside else "    optimizer.step()\n"
    return ("def train(model, X, y, optimizer):\n    total = 0.0\n"
            "    for i in range(0, len(X), 2):\n        optimizer.zero_grad()\n"
            "        loss = ((model(X[i:i + 2]) - y[i:i + 2]) ** 2).mean()\n        loss.backward()\n"
            f"{step}        total += loss.item()\n{after}    return total\n")


def _epoch_call():
    from grader.engine.checks import Build

    generator = torch.Generator().manual_seed(3)
    model = Build("torch.nn.Linear", (2, 1), state={"weight": torch.randn(1, 2, generator=generator),
                                                     "bias": torch.randn(1, generator=generator)})
    return Call("train", (model, torch.randn(6, 2, generator=generator), torch.randn(6, 1, generator=generator),
                          Build("torch.optim.SGD", kwargs={"lr": 0.1}, params_of=0)), after=True)


def test_a_step_taken_once_after_the_loop_is_named_and_a_step_per_batch_with_another_loss_is_not():
    once = _failure(_one_epoch(step_inside=False), _one_epoch(step_inside=True), _epoch_call())
    assert "once per epoch, after the loop" in once.hint
    never = _failure(_one_epoch(step_inside=False).replace("    optimizer.step()\n    return", "    return"),
                     _one_epoch(step_inside=True), _epoch_call())
    assert "ends exactly where it started" in never.hint
    near = _failure(_one_epoch(step_inside=True).replace("** 2", "** 2 * 2"), _one_epoch(step_inside=True),
                    _epoch_call())
    assert "learning rate of 0" not in (near.hint or "")


def test_a_call_without_an_optimizer_or_a_model_state_has_no_step_variant():
    from grader.engine.checks import Build
    from grader.engine.protocol import Reply

    call = _epoch_call()
    model = {"is_module": True, "parameters": [{"name": n, "value": v} for n, v in call.args[0].state.items()]}
    assert detectors.optimizer_variants(call, Reply(value=1.0, after=[model, None, None, None]))
    assert detectors.optimizer_variants(call, Reply(value=1.0)) == ()  # no state after the call: unknown
    no_lr = Call("train", (*call.args[:3], Build("torch.optim.SGD", kwargs={"lr": 0}, params_of=0)), after=True)
    assert detectors.optimizer_variants(no_lr, Reply(value=1.0, after=[model, None, None, None])) == ()


def test_an_argmax_over_the_batch_is_named_where_the_shapes_clash_and_elsewhere_not():
    reference = "def accuracy(logits, y):\n    return float((logits.argmax(dim=1) == y).float().mean())\n"
    call = Call("accuracy", (torch.randn(5, 3), torch.tensor([0, 1, 2, 1, 0])))
    from test_feedback_wiring import _subject

    from grader.engine.checks import Check, GradeFailure

    student = reference.replace("dim=1", "dim=0")  # the room's module: the file's lines, as _subject compiles them
    check = Check(student=_subject(student), reference=_subject(reference), mistakes=lambda: (), rtol=1e-6,
                  atol=1e-6, student_file="exercise9.py", source=lambda: f"import torch\n{student}")
    with pytest.raises(GradeFailure) as failure:
        check.same(call)
    over_batch = failure.value
    assert "across the batch" in over_batch.hint and "dim=1" in over_batch.hint
    assert detectors.argmax_over_samples_words("broadcast", "    correct = (torch.argmax(out, 0) == y)\n")
    # near misses: the right dimension on a clashing line, dimension 0 on a line of another error
    assert detectors.argmax_over_samples_words("broadcast", "    correct = (out.argmax(dim=1) == y[:2])\n") is None
    assert detectors.argmax_over_samples_words("dtype", "    correct = (out.argmax(0) == y)\n") is None
