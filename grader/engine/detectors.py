"""Generic detectors for mistakes no course lists, beyond ``diagnosis``'s.

Each reads only what the grader observes (the reference's and the student's
replies, and the answers of the reference under variations a suite asks
for) and names the likely cause in a beginner's words; none knows an
exercise. Every kind has its own words (``WORDS``), distinct from
``diagnosis.WORDS``; ``words(kind)`` finds a kind's words in either.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from typing import Any

import torch

from grader.engine import diagnosis
from grader.engine.protocol import Build

WORDS: dict[str, str] = {
    "zero_start": "Your model starts with every parameter at exactly 0, where random starting values are "
                  "expected (torch.randn, or the layers' own initialisation): torch.zeros makes every weight the "
                  "same, so the neurons cannot learn different things.",
    # A suite's variant: the reference given one input in place of another gives the student's answer.
    "data_in_place_of": "Your answer is what the right computation gives when {used} is used in place of "
                        "{instead}: somewhere your code uses {used} where {instead} belongs.",
    # what a difference's own words show (``difference_words``)
    "tensor_not_float": "Your answer is a tensor where a Python float is asked for: .item() turns a one-element "
                        "tensor into a plain Python number (and lets go of the graph behind it).",
    "list_not_tensor": "Your answer is a list (a Python list) where one tensor is asked for: torch.stack (or "
                       "torch.cat) makes one tensor of several.",
    "dropout": "Your model uses dropout: in training mode (a model fresh from its constructor is in it) dropout "
               "zeroes random features, so the output depends on random draws. If the exercise does not ask "
               "for dropout, leave it out.",
    "one_number": "Your answer is a single number (a 0-dim tensor) where one value per element is expected, "
                  "shaped like the input: something is reduced (summed, averaged) or computed from scalars only.",
    "extra_parameter": "Your model registers a parameter the exercise does not ask for ({names}): every "
                       "nn.Parameter or layer assigned to self in __init__ becomes one; keep exactly the ones "
                       "asked for.",
    "missing_parameter": "Your model does not register {names}: each parameter must be assigned to self in "
                         "__init__, as its own nn.Parameter or inside a layer made there; one made in forward (new "
                         "layers on every call), kept in a local variable or shared with another name is not.",
    "plain_tensors": "Your model keeps {names} as plain tensors: only an nn.Parameter assigned to self is "
                     "registered, so model.parameters() would not list them and no optimizer would update them.",
    "parameter_shape": "Your model's `{name}` has shape {got} where {expected} is asked for: check the sizes "
                       "you create it with; a layer's weight is (out_features, in_features), so check each "
                       "layer's in and out features, the hidden sizes and their order.",
    "layer_sizes": "Your model's layer {got} differs from the {expected} asked for: check its in and out "
                   "features (the hidden sizes) and the order of the layers.",
    "batch_size": "Your {loader} gives batches of {got} samples where {expected} are asked for: a DataLoader's "
                  "batch_size is 1 unless you pass it, so pass the batch size to every loader that needs it.",
    "shuffles_in_order": "Your {loader} shuffles its samples: only the training loader shuffles (shuffle=True); "
                         "the validation and test loaders give theirs in order.",
    "in_order_shuffles": "Your {loader} gives its samples in order: the training loader should shuffle them "
                         "(shuffle=True), with the generator you are given.",
    "split_sizes": "Your split holds {got} samples where {expected} are expected: the sizes are computed as the "
                   "exercise says (how they round matters), so the lengths of the parts come out as asked.",
    "split_indices": "Your split holds other samples than expected: random_split, with the generator you are "
                     "given, picks each part's samples at random; slicing takes them in order.",
    "no_gradient_reaches": "No gradient reaches {name}: your result is not computed from {name} through "
                           "autograd (torch.tensor(...), .item(), float(), .detach() or a copy in between cuts it).",
    "data_changed": "Your dataset's samples are not the data it was given: it changes their values (normalising, "
                    "scaling or converting them) where it should keep them as they are; done in place, that "
                    "changes the caller's tensor too.",
    "parameter_unused": "Your answer is what the right computation gives with `{name}` set to 0: your forward "
                        "leaves `{name}` out (it makes no difference to the result, and gets no gradient).",
    "returns_argument": "Your answer is the argument {got} where the expected one is {want}, another of the "
                        "arguments: your code returns (or builds from) {got} instead of {want}.",
    "negative_loss": "Your answer is negative where the expected one is positive: errors that should be squared "
                     "(or taken as absolute values) cancel out when they are added as they are.",
    "trains_where_it_measures": "Your code trains on the data it should only measure (the test data): a pass "
                                "that should record no graph records one, and your code calls backward() in {n} "
                                "places. The test pass runs no backward() and no step.",
    "one_batch": "Your answer is what the right computation gives with all {n} samples in one batch: you "
                 "average over the samples (each batch weighted by its size) where the mean of the batches' values "
                 "is asked for.",
    "per_batch_mean": "Your answer is the mean of the per-batch values where a fraction of all the samples is "
                      "asked for: with a smaller last batch, each of its samples counts for more. Count over the "
                      "samples (the correct ones, and how many there are), then divide once.",
    "carried_over": "Your answer to each call adds the previous call's: something is kept from one call to the "
                    "next, such as tensors made once and reused, whose .grad accumulates (backward() adds to it "
                    "and nothing sets it back to zero). Make fresh tensors on every call.",
    "max_not_index": "Your answer is exactly 0 where a fraction is expected: the comparison never holds. max() "
                     "gives the largest value itself; what compares with class labels is its index (argmax, or "
                     "the indices max() returns beside the values).",
    "partly_right": "Only entry {bad} of your answer is wrong; entry {good} is right: the mistake is in what "
                    "computes that entry alone. Look where its code differs from the code of the right one: "
                    "copy-pasted code that still uses the other variable, or an input an earlier step changed and "
                    "did not put back.",
    "steps_after_loop": "Your losses are all measured at the starting parameters, as if no step were taken during "
                        "the pass (your answer is what the right code gives with a learning rate of 0), yet `{name}` "
                        "does end moved: the step runs only once per epoch, after the loop over the batches, where "
                        "each batch needs its own step (optimizer.step() inside the loop, after backward(); check "
                        "its indentation).",
    "never_steps": "Your losses are all measured at the starting parameters (your answer is what the right code "
                   "gives with a learning rate of 0), and `{name}` ends exactly where it started: the optimizer's "
                   "step never takes effect. It runs before backward(), the gradients are cleared between "
                   "backward() and step(), or step() is never called.",
    "argmax_over_samples": "Your code takes the {function} over dimension 0 ({code}): that dimension runs across "
                           "the batch (one row per sample), so it picks one sample per class where one class per "
                           "sample is asked. The classes are along dimension 1: use dim=1.",
    "extra_forward_per_epoch": "Your code runs the model once more per epoch than expected ({got} forward calls "
                               "in {epochs} epochs, expected {expected}): an extra pass, such as the loss measured "
                               "again after the step instead of using the one computed before it.",
}


def words(kind: str) -> str:
    """The words of a kind of this module or of ``diagnosis``."""
    return WORDS[kind] if kind in WORDS else diagnosis.WORDS[kind]


def starts_at_zero(expected: Sequence[Any], got: Sequence[Any]) -> bool:
    """Every parameter the student's fresh model holds is exactly 0, while some of the reference's is not."""
    tensors = [v for v in got if isinstance(v, torch.Tensor)]
    if not tensors or len(tensors) != len(got) or any(t.numel() == 0 for t in tensors):
        return False
    zero = all(not bool(t.count_nonzero()) for t in tensors)
    return zero and any(isinstance(v, torch.Tensor) and bool(v.count_nonzero()) for v in expected)


# A difference's own message (``checks.first_difference``'s words) -> the kind that explains it and its fields.
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^is a tensor of shape \([^)]*\), expected a Python float"), "tensor_not_float"),
    (re.compile(r"^is a list, expected a torch\.Tensor"), "list_not_tensor"),
    (re.compile(r"^has shape \(\), expected \(\d+"), "one_number"),
    (re.compile(r"has an extra parameter the exercise does not ask for: (?P<names>[^(]+?) \("), "extra_parameter"),
    # Renamed parameters of the same shapes, and frozen ones, are ``structure``'s (it reads the descriptions).
    (re.compile(r"has no parameter (?P<names>[^;]+)(?:;|$)"), "missing_parameter"),
    (re.compile(r"keeps (?P<names>.+) as plain tensors"), "plain_tensors"),
    (re.compile(r"parameter `(?P<name>[^`]+)` has shape (?P<got>\([^)]*\)), expected (?P<expected>\([^)]*\))"),
     "parameter_shape"),
    (re.compile(r"parameter `[^`]+` has dtype 'float64'"), "float64"),
    (re.compile(r"has the layer (?P<got>.+), expected (?P<expected>.+)$"), "layer_sizes"),
    (re.compile(r"^has batches of (?P<got>\d+), expected (?P<expected>\d+)"), "batch_size"),
    (re.compile(r"^shuffles its samples: it should give them in order"), "shuffles_in_order"),
    (re.compile(r"^gives its samples in order: it should shuffle"), "in_order_shuffles"),
    (re.compile(r"^holds (?P<got>\d+) samples, expected (?P<expected>\d+)"), "split_sizes"),
    (re.compile(r"^holds other samples than expected: its indices differ"), "split_indices"),
)


def difference_words(difference: Any) -> str | None:
    """The likely cause of a difference whose own words (``where``, ``message``) show what it is: a tensor
    where a float belongs, a parameter missing or renamed, a loader's batch size... or None."""
    message, where = str(difference.message), str(difference.where)
    if where.startswith("the gradient w.r.t. ") and message.startswith("is None"):
        return WORDS["no_gradient_reaches"].format(name=where.removeprefix("the gradient w.r.t. "))
    for pattern, kind in _MESSAGES:
        found = pattern.search(message)
        if found:
            loader = where.removeprefix("the split behind ").removeprefix("the ") or "loader"
            return words(kind).format(loader=loader, **found.groupdict())
    return None


# One of ``Call.variants``: (the kind of mistake it shows, its words' fields, the request changed to make it).
Variant = tuple[str, dict[str, Any], Any]


def parameter_variants(request: Any, answer: Any) -> tuple[Variant, ...]:
    """For a call of a built module holding a given state: the same call with each parameter set to 0,
    as ``Call.variants`` (the reference's answers tell a parameter the student's forward leaves out).
    Only for an answer of several different values: one number matches a variant too easily (a
    dropout that happens to zero a whole layer on a single sample)."""
    build = getattr(request, "target", None)
    state = build.state if isinstance(build, Build) else None
    if not isinstance(build, Build) or not isinstance(state, dict) or len(state) < 2 \
            or not isinstance(answer, torch.Tensor) or answer.detach().unique().numel() < 2:
        return ()
    return tuple(("parameter_unused", {"name": name},
                  dataclasses.replace(request, target=dataclasses.replace(
                      build, state={**state, name: torch.zeros_like(value)}), variants=()))
                 for name, value in state.items() if isinstance(value, torch.Tensor) and bool(value.count_nonzero()))


def optimizer_variants(request: Any, got: Any) -> tuple[Variant, ...]:
    """For a call given a torch optimizer built with a learning rate and a model holding a given state:
    the same call with a learning rate of 0, as ``Call.variants``. The reference's answer then holds
    every loss measured at the starting parameters; its words say whether the student's model moved
    anyway (the step taken once, after the loop) or never did."""
    args = getattr(request, "args", ())
    optimizer = next((i for i, a in enumerate(args) if isinstance(a, Build) and a.target.startswith("torch.optim.")
                      and isinstance(a.kwargs.get("lr"), (int, float)) and a.kwargs["lr"] != 0), None)
    model = next((i for i, a in enumerate(args) if isinstance(a, Build) and a.state), None)
    after = getattr(got, "after", None)
    if optimizer is None or model is None or type(after) is not list or model >= len(after):
        return ()
    moved = _moved(args[model].state, after[model])
    if moved is None:
        return ()
    names = getattr(got, "arg_names", None) or []
    name = names[model] if model < len(names) and isinstance(names[model], str) else "the model"
    frozen = dataclasses.replace(args[optimizer], kwargs={**args[optimizer].kwargs, "lr": 0.0})
    variant = dataclasses.replace(request, args=(*args[:optimizer], frozen, *args[optimizer + 1:]), variants=())
    return (("steps_after_loop" if moved else "never_steps", {"name": name}, variant),)


def _moved(state: dict[str, Any], module: Any) -> bool | None:
    """Whether a module described after a call holds other parameter values than ``state`` (None: unknown)."""
    if not (isinstance(module, dict) and module.get("is_module")):
        return None
    values = {p.get("name"): p.get("value") for p in module.get("parameters", [])}
    if set(values) != set(state) or not all(isinstance(v, torch.Tensor) and v.shape == state[k].shape
                                            for k, v in values.items()):
        return None
    return not all(torch.equal(v, state[k]) for k, v in values.items())


_OVER_SAMPLES = re.compile(r"\b(?P<function>(?:arg)?max)\((?:[^(),]+,\s*)?(?:dim\s*=\s*)?0\s*\)")


def argmax_over_samples_words(kind: str | None, code: str) -> str | None:
    """Elementwise shapes that do not fit, on a line of the student's (``code``: the lines an error
    cites) that takes an argmax or max over dimension 0: the batch, where the classes belong."""
    found = _OVER_SAMPLES.search(re.sub(r"#.*$", "", code, flags=re.MULTILINE))
    if kind != "broadcast" or found is None:
        return None
    return WORDS["argmax_over_samples"].format(function=found["function"], code=found[0])


def returned_argument_words(expected: Any, got: Any, args: Sequence[Any], names: Sequence[Any] | None) -> str | None:
    """The student's answer is one argument (broadcast to the answer's shape) and the reference's is
    another: the wrong one of the two is returned."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.shape != got.shape \
            or names is None:
        return None

    def which(value: torch.Tensor) -> int | None:
        for index, arg in enumerate(args):
            if isinstance(arg, torch.Tensor) and arg.dtype == value.dtype and index < len(names) \
                    and diagnosis.broadcasts_to(arg.shape, value.shape) \
                    and torch.equal(arg.detach().expand(value.shape), value.detach()):
                return index
        return None

    want, have = which(expected), which(got)
    if want is None or have is None or want == have:
        return None
    return WORDS["returns_argument"].format(got=names[have], want=names[want])


def negative_words(expected: Any, got: Any) -> str | None:
    """A single number that is negative where the reference's is positive (a loss, a squared error)."""
    # 0-dim on both sides: a reduction (a loss), never one output of a model on one sample.
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() != 0 \
            or got.dim() != 0 or not expected.is_floating_point():
        return None
    return WORDS["negative_loss"] if float(expected.detach()) > 0 > float(got.detach()) else None


_BACKWARD = re.compile(r"\.backward\(")


def trains_where_it_measures(message: str, source: str | None) -> str | None:
    """A pass that should record no graph records one (the probes' words), and the code calls
    backward() in more than one place: the measuring pass trains too."""
    if source is None or "recorded gradients (autograd built a graph), expected none" not in message:
        return None
    n = len(_BACKWARD.findall(re.sub(r"#.*$", "", source, flags=re.MULTILINE)))
    return WORDS["trains_where_it_measures"].format(n=n) if n >= 2 else None


def _close(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a.detach().double(), b.detach().double(), rtol=1e-4, atol=1e-5)


def carried_over_words(expected: Sequence[Any], got: Sequence[Any]) -> str | None:
    """Answers to successive calls where one is the reference's plus the answer before it: state kept
    (and accumulated) from one call to the next."""
    for k in range(1, min(len(expected), len(got))):
        want, have, before = expected[k], got[k], got[k - 1]
        if not all(isinstance(v, torch.Tensor) and v.is_floating_point() for v in (want, have, before)) \
                or not want.shape == have.shape == before.shape or not bool(before.count_nonzero()):
            continue
        if not _close(have, want) and _close(have, want + before):
            return WORDS["carried_over"]
    return None


_MAX = re.compile(r"\bmax\(")
_INDEX = re.compile(r"argmax|\.indices|\bmax\([^)]*\)\s*\[\s*1\s*\]|_\s*,\s*\w+\s*=\s*[\w.]*max\(")
_ZERO_FRACTION = re.compile(r"^is 0, expected (0\.\d+)")


def code_backed_words(message: str, source: str | None) -> str | None:
    """Words that need the student's code as well as the difference: a measuring pass that trains, a
    fraction that is 0 because max()'s values are compared where its indices belong."""
    if source is None:
        return None
    code = re.sub(r"#.*$", "", source, flags=re.MULTILINE)
    if _ZERO_FRACTION.search(message) and _MAX.search(code) and not _INDEX.search(code):
        return WORDS["max_not_index"]
    return trains_where_it_measures(message, code)


_DROPOUT = re.compile(r"\bDropout\d?d?\(|\bdropout\(")


def dropout_words(request: Any, source: str | None) -> str | None:
    """A model's output that differs, from a student's model whose code uses dropout."""
    if source is None or not isinstance(getattr(request, "target", None), Build):
        return None
    return WORDS["dropout"] if _DROPOUT.search(re.sub(r"#.*$", "", source, flags=re.MULTILINE)) else None


def partly_right_words(expected: Any, got: Any) -> str | None:
    """A short vector of separately computed entries (such as [dL/dw, dL/db]) with some right, some wrong."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() != 1 \
            or expected.shape != got.shape or not 2 <= expected.numel() <= 4 or not expected.is_floating_point():
        return None
    right = torch.isclose(got.detach().double(), expected.detach().double(), rtol=1e-4, atol=1e-5)
    if bool(right.all()) or not bool(right.any()):
        return None
    return WORDS["partly_right"].format(bad=_positions(~right), good=_positions(right))


def _positions(mask: torch.Tensor) -> str:
    """The indices where a 1-D mask is true, as "0, 2"."""
    return ", ".join(str(int(i)) for i in mask.nonzero().flatten())


def changed_data_words(difference: Any) -> str | None:
    """A dataset's item whose values differ, in the expected shape and dtype: the data was changed."""
    want, have = difference.expected, difference.got
    if not (" item " in f" {difference.where}" and isinstance(want, torch.Tensor) and isinstance(have, torch.Tensor)):
        return None
    same_kind = want.shape == have.shape and want.dtype == have.dtype
    return WORDS["data_changed"] if same_kind and not torch.equal(want, have) else None


def extra_calls_words(records: tuple[int, int] | None, expected: Any, got: Any) -> str | None:
    """A model run once more per epoch: as many records (epochs) as expected, and exactly one forward
    call more for each of them."""
    if records is None or not isinstance(expected, int) or not isinstance(got, int):
        return None
    epochs, mine = records
    if epochs != mine or epochs < 1 or got - expected != epochs:
        return None
    return WORDS["extra_forward_per_epoch"].format(got=got, expected=expected, epochs=epochs)


__all__ = ["WORDS", "argmax_over_samples_words", "carried_over_words", "changed_data_words", "code_backed_words",
           "difference_words", "dropout_words", "extra_calls_words", "negative_words", "optimizer_variants",
           "parameter_variants", "partly_right_words", "returned_argument_words", "starts_at_zero",
           "trains_where_it_measures", "words"]
