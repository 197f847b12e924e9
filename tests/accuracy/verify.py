"""Checks that the corpus tells the truth, independently of the grader.

Every ``# expect: correct`` file must answer exactly as ``solutions/`` does,
and every ``# expect: wrong`` file must differ from it, at the course seed
AND at several other seeds. The checks here go further than the hidden
suites do on purpose (inputs compared after every call, training started
from a model that already holds gradients, several shapes), so a wrong file
that today's grader accepts is still shown to be wrong.

This runs the corpus's own files in this process: they are ours, not
students'. Run it after adding a file:  python tests/accuracy/verify.py
"""
from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SEEDS = (2026, 0, 1, 7, 12345)
RTOL, ATOL = 1e-4, 1e-5


class Differs(Exception):
    """The submission's behaviour differs from the reference's."""


def load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def same(expected: Any, got: Any, where: str) -> None:
    """Raise Differs unless ``got`` is ``expected`` in type, shape, dtype, value and gradient-carrying."""
    if isinstance(expected, torch.Tensor):
        if type(got) is not torch.Tensor:
            raise Differs(f"{where}: {type(got).__name__}, expected a tensor")
        if got.shape != expected.shape or got.dtype != expected.dtype:
            raise Differs(f"{where}: {tuple(got.shape)} {got.dtype}, expected {tuple(expected.shape)} {expected.dtype}")
        if not torch.allclose(got.detach(), expected.detach(), rtol=RTOL, atol=ATOL, equal_nan=True):
            raise Differs(f"{where}: values differ")
        if expected.requires_grad != got.requires_grad:
            raise Differs(f"{where}: requires_grad {got.requires_grad}, expected {expected.requires_grad}")
    elif isinstance(expected, (list, tuple)):
        if type(got) is not type(expected) or len(got) != len(expected):
            raise Differs(f"{where}: {type(got).__name__} of {len(got) if hasattr(got, '__len__') else '?'}")
        for index, (e, g) in enumerate(zip(expected, got, strict=True)):
            same(e, g, f"{where}[{index}]")
    elif isinstance(expected, float):
        if type(got) is not float or abs(got - expected) > ATOL + RTOL * abs(expected):
            raise Differs(f"{where}: {got!r}, expected {expected!r}")
    elif expected != got or type(expected) is not type(got):
        raise Differs(f"{where}: {got!r}, expected {expected!r}")


def outcome(function: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", function()
    except Differs:
        raise
    except Exception as error:  # noqa: BLE001 - a raising submission is an answer too
        return "error", type(error).__name__


def compare_calls(reference: Callable, student: Callable, make_args: Callable[[], tuple], where: str,
                  cotangent: Callable[[Any], torch.Tensor] | None = None, no_grad: bool = False) -> None:
    """Call both on fresh copies of the same arguments; compare results, the
    arguments afterwards, and (with ``cotangent``) gradients w.r.t. every tensor argument."""
    results = []
    for function in (reference, student):
        args = make_args()
        def run(function=function, args=args):
            with torch.no_grad() if no_grad else torch.enable_grad():
                value = function(*args)
            grads = None
            if cotangent is not None and isinstance(value, torch.Tensor) and value.requires_grad:
                wrt = [a for a in args if isinstance(a, torch.Tensor) and a.requires_grad]
                grads = torch.autograd.grad(value, wrt, cotangent(value), allow_unused=True)
                grads = tuple(torch.zeros_like(a) if g is None else g for a, g in zip(wrt, grads, strict=True))
            return value, grads, [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args]
        results.append(outcome(run))
    (kind_r, ref), (kind_s, got) = results
    if kind_r != kind_s:
        raise Differs(f"{where}: {kind_s} {got if kind_s == 'error' else ''}")
    if kind_r == "error":
        if ref != got:
            raise Differs(f"{where}: raised {got}, reference raised {ref}")
        return
    same(ref[0], got[0], f"{where} result")
    if ref[1] is not None:
        if got[1] is None:
            raise Differs(f"{where}: no gradient")
        same(ref[1], got[1], f"{where} gradients")
    same(ref[2], got[2], f"{where} arguments after the call")


def randn(g: torch.Generator, *shape: int, requires_grad: bool = False) -> torch.Tensor:
    return torch.randn(shape, generator=g).requires_grad_(requires_grad)


def check_exercise1(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for shape in [(7,), (5, 1), (3, 4), (2, 3, 2)]:
        for kind in ("tensor", "float", "shape1"):
            state = g.get_state()
            def args(shape=shape, kind=kind, state=state):
                g.set_state(state)
                x = randn(g, *shape, requires_grad=True)
                if kind == "float":
                    return x, randn(g).item(), randn(g).item()
                pshape = () if kind == "tensor" else (1,)
                return x, randn(g, *pshape, requires_grad=True), randn(g, *pshape, requires_grad=True)
            cot = randn(g, *shape)
            compare_calls(ref.model, sub.model, args, f"model {shape} {kind}", cotangent=lambda v, c=cot: c)
            args()  # advance the generator past the arguments
        state = g.get_state()
        def loss_args(shape=shape, state=state):
            g.set_state(state)
            return randn(g, *shape, requires_grad=True), randn(g, *shape)
        compare_calls(ref.loss_fn, sub.loss_fn, loss_args, f"loss_fn {shape}", cotangent=lambda v: torch.ones_like(v))
        loss_args()


def check_exercise2(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for shape in [(9,), (4, 1), (3, 5)]:
        for floats in (False, True):
            x, y, w, b = randn(g, *shape), randn(g, *shape), randn(g), randn(g)
            y_hat = w * x + b
            if floats:
                w, b = w.item(), b.item()
            copies = lambda *values: lambda: tuple(v.clone() if isinstance(v, torch.Tensor) else v for v in values)  # noqa: E731
            compare_calls(ref.dloss_fn, sub.dloss_fn, copies(y_hat, y), f"dloss_fn {shape}", no_grad=True)
            compare_calls(ref.dmodel_dw, sub.dmodel_dw, copies(x, w, b), f"dmodel_dw {shape}", no_grad=True)
            compare_calls(ref.dmodel_db, sub.dmodel_db, copies(x, w, b), f"dmodel_db {shape}", no_grad=True)
            compare_calls(ref.grad_fn, sub.grad_fn, copies(x, y, y_hat, w, b), f"grad_fn {shape} floats={floats}",
                          no_grad=True)


def named_parameters(model: torch.nn.Module, prefer: set[str] = frozenset()) -> dict[str, torch.Tensor]:
    """Each parameter once, by the name in ``prefer`` (the reference's) when one
    of its holders gives it that name: a layer also kept in a container is the
    same layer, whichever was assigned first."""
    chosen: dict[int, tuple[str, torch.Tensor]] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) not in chosen or (name in prefer and chosen[id(p)][0] not in prefer):
            chosen[id(p)] = (name, p)
    return dict(chosen.values())


def module_signature(model: torch.nn.Module, prefer: set[str] = frozenset()) -> dict:
    parameters = {name: (tuple(p.shape), p.dtype, type(p) is torch.nn.Parameter)
                  for name, p in named_parameters(model, prefer).items()}
    containers = (torch.nn.ModuleList, torch.nn.Sequential, torch.nn.Identity)  # aliases and no-ops
    layers = sorted((name, type(m).__name__, getattr(m, "in_features", None), getattr(m, "out_features", None))
                    for name, m in model.named_children() if not isinstance(m, containers))
    plain = sorted(name for name, value in vars(model).items() if isinstance(value, torch.Tensor))
    return {"parameters": parameters, "layers": layers, "plain tensors": plain}


def check_module(ref_class: type, sub_class: type, g: torch.Generator, shapes: list[tuple]) -> None:
    ref_model = ref_class()
    sub_outcome = outcome(sub_class)
    if sub_outcome[0] == "error":
        raise Differs(f"construction raised {sub_outcome[1]}")
    sub_model = sub_outcome[1]
    names = {name for name, _ in ref_model.named_parameters()}
    same(module_signature(ref_model), module_signature(sub_model, names), "structure")
    state = {name: randn(g, *p.shape) for name, p in ref_model.named_parameters()}
    with torch.no_grad():
        for model in (ref_model, sub_model):
            for name, p in named_parameters(model, names).items():
                p.copy_(state[name])
    for shape in shapes:
        x = randn(g, *shape)
        results = []
        for model in (ref_model, sub_model):
            model.zero_grad()
            xi = x.clone().requires_grad_(True)
            kind, value = outcome(lambda m=model, xi=xi: m(xi))
            if kind == "error":
                raise Differs(f"forward {shape} raised {value}")
            if not (isinstance(value, torch.Tensor) and value.requires_grad):
                raise Differs(f"forward {shape}: no gradient")
            if value.shape != x.shape:
                raise Differs(f"forward {shape}: shape {tuple(value.shape)}")
            value.backward(torch.ones_like(value))
            grads = {n: torch.zeros_like(p) if p.grad is None else p.grad.clone()
                     for n, p in named_parameters(model, names).items()}
            results.append((value.detach(), xi.grad, grads))
        same(results[0][0], results[1][0], f"forward {shape}")
        same(results[0][1], results[1][1], f"grad x {shape}")
        same(sorted(results[0][2].items()), sorted(results[1][2].items()), f"parameter grads {shape}")


def check_exercise3(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    check_module(ref.LinearModel, sub.LinearModel, g, [(1, 1), (6, 1), (8,), (2, 3, 4)])
    # The task asks for random starting values (torch.randn): two models differ.
    starts = [[p.detach().clone() for p in sub.LinearModel().parameters()] for _ in range(2)]
    if all(torch.equal(a, b) for a, b in zip(*starts, strict=True)):
        raise Differs("every LinearModel() starts from the same values: not random")


def check_exercise4(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    check_module(ref.Task2, sub.Task2, g, [(1, 1), (5, 1), (16, 1)])


def check_exercise5(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    x = randn(g, 12)
    y = 2.5 * x - 1.0 + 0.1 * randn(g, 12)
    start = torch.tensor([randn(g).item(), randn(g).item()])
    stale = randn(g, 2)
    for n_epochs, lr in [(0, 0.1), (1, 0.1), (5, 0.05), (20, 0.02)]:
        for with_stale_grad in (False, True):
            answers = []
            for module in (ref, sub):
                params = start.clone().requires_grad_(True)
                if with_stale_grad:
                    params.grad = stale.clone()
                xs, ys = x.clone(), y.clone()
                kind, value = outcome(lambda: module.training_loop(n_epochs, lr, params, xs, ys))  # noqa: B023
                if kind == "value":
                    returned = value.detach().clone() if isinstance(value, torch.Tensor) else value
                    value = (value is params, returned, params.detach().clone(), xs, ys)
                answers.append((kind, value))
            where = f"training_loop({n_epochs}, {lr}) stale grad={with_stale_grad}"
            if answers[0][0] != answers[1][0]:
                raise Differs(f"{where}: {answers[1]}")
            same(list(answers[0][1]), list(answers[1][1]), where)
    for optimizer, lr, epochs in [("SGD", 0.05, 8), ("Adam", 0.1, 6), ("SGD", 0.1, 1)]:
        weight, bias, grad_w, grad_b = randn(g, 1, 1), randn(g, 1), randn(g, 1, 1), randn(g, 1)
        for with_stale_grad in (False, True):
            answers = []
            for module in (ref, sub):
                model = torch.nn.Linear(1, 1)
                with torch.no_grad():
                    model.weight.copy_(weight)
                    model.bias.copy_(bias)
                if with_stale_grad:
                    model.weight.grad, model.bias.grad = grad_w.clone(), grad_b.clone()
                opt = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
                xs, ys = x[:10].unsqueeze(1), y[:10].unsqueeze(1)
                kind, value = outcome(lambda: module.train(model, torch.nn.MSELoss(), opt, xs, ys, epochs))  # noqa: B023
                if kind == "value":
                    value = (value, model.weight.detach().clone(), model.bias.detach().clone())
                answers.append((kind, value))
            where = f"train {optimizer} lr={lr} epochs={epochs} stale grad={with_stale_grad}"
            if answers[0][0] != answers[1][0]:
                raise Differs(f"{where}: {answers[1]}")
            if answers[0][0] == "value":
                same(list(answers[0][1]), list(answers[1][1]), where)


def grad_state(tensors: list) -> list:
    """Each tensor's requires_grad and .grad (a .grad of zeros counts as cleared, as the grader counts it)."""
    state = []
    for value in tensors:
        if isinstance(value, torch.Tensor):
            grad = value.grad
            cleared = grad is None or not bool(grad.count_nonzero())
            state.append((value.requires_grad, None if cleared else grad.detach().clone()))
    return state


def compare_with_state(reference: Callable, student: Callable, make_args: Callable[[], tuple], where: str) -> None:
    """Results and the arguments after the call, values and autograd state (requires_grad, .grad)."""
    answers = []
    for function in (reference, student):
        args = make_args()
        kind, value = outcome(lambda function=function, args=args: function(*args))
        if kind == "value":
            value = (value.detach() if isinstance(value, torch.Tensor) else value,
                     [a.detach().clone() if isinstance(a, torch.Tensor) else a for a in args], grad_state(list(args)))
        answers.append((kind, value))
    if answers[0][0] != answers[1][0] or (answers[0][0] == "error" and answers[0][1] != answers[1][1]):
        raise Differs(f"{where}: {answers[1]}")
    if answers[0][0] == "value":
        (ref_value, ref_args, ref_state), (value, args, state) = answers[0][1], answers[1][1]
        same(ref_value, value, f"{where} result")
        same(ref_args, args, f"{where} arguments after the call")
        if [r for r, _ in ref_state] != [r for r, _ in state]:
            raise Differs(f"{where}: requires_grad after the call {state}, expected {ref_state}")
        for (_, want), (_, have) in zip(ref_state, state, strict=True):
            if (want is None) != (have is None):
                raise Differs(f"{where}: .grad after the call {have}, expected {want}")
            if want is not None:
                same(want, have, f"{where} .grad after the call")


def check_exercise6(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for shape in [(10,), (4, 3)]:
        for kind in ("float", "tensor", "requires_grad", "stale"):
            x = randn(g, *shape)
            y = 1.5 * x - 0.5 + 0.3 * randn(g, *shape)
            w, b, old_w, old_b = randn(g), randn(g), randn(g), randn(g)

            def args(x=x, y=y, w=w, b=b, kind=kind, old=(old_w, old_b)) -> tuple:
                if kind == "float":
                    return x.clone(), y.clone(), w.item(), b.item()
                w2, b2 = w.clone().requires_grad_(kind != "tensor"), b.clone().requires_grad_(kind != "tensor")
                if kind == "stale":
                    w2.grad, b2.grad = old[0].clone(), old[1].clone()
                return x.clone(), y.clone(), w2, b2
            for delta in (0.1, 0.5):
                compare_calls(lambda *a, d=delta: ref.grad_by_finite_differences(*a, delta=d),
                              lambda *a, d=delta: sub.grad_by_finite_differences(*a, delta=d),
                              args, f"grad_by_finite_differences {shape} {kind} delta={delta}", no_grad=True)
            compare_with_state(ref.grad_by_autograd, sub.grad_by_autograd, args, f"grad_by_autograd {shape} {kind}")


def check_exercise7(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for shape in [(8,), (3, 4)]:
        t, params, preds, targets = randn(g, *shape), randn(g, 3), randn(g, *shape), randn(g, *shape)
        compare_calls(ref.f, sub.f, lambda t=t, p=params: (t.clone(), p.clone().requires_grad_(True)),
                      f"f {shape}", cotangent=lambda v: torch.ones_like(v))
        compare_calls(ref.mse, sub.mse, lambda p=preds, q=targets: (p.clone().requires_grad_(True), q.clone()),
                      f"mse {shape}", cotangent=lambda v: torch.ones_like(v))
        y = 1.5 * t ** 2 - 0.5 * t + 2.0 + 0.1 * randn(g, *shape)
        for lr in (0.1, 0.02):
            compare_with_state(ref.apply_step, sub.apply_step,
                               lambda t=t, y=y, p=params, lr=lr: (p.clone().requires_grad_(True), t.clone(), y.clone(), lr),
                               f"apply_step {shape} lr={lr}")


# -- exercises 8-10: loaders, a classifier, train and test --------------------------------------
def iris(g: torch.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    target = torch.randint(0, 3, (n,), generator=g)
    centres = torch.tensor([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.6, 2.0]])
    return centres[target] + 0.3 * randn(g, n, 4), target


def describe_loader(loader: Any, dataset: Any, generator: torch.Generator) -> tuple:
    """What a loader is made of, and its batches over two epochs (a shuffled one changes order)."""
    sampler = loader.sampler
    given = getattr(sampler, "generator", None)
    subset = loader.dataset
    indices = list(subset.indices) if isinstance(subset, torch.utils.data.Subset) else None
    base = subset.dataset is dataset if isinstance(subset, torch.utils.data.Subset) else subset is dataset
    epochs = [[[t.clone() for t in batch] for batch in loader] for _ in range(2)]
    return (loader.batch_size, loader.drop_last, type(sampler).__name__,
            "given" if given is generator else repr(given is None), indices, base, epochs)


def check_exercise8(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for n in (6, 17, 150):
        data, target = iris(g, n)
        answers = []
        for module in (ref, sub):
            kind, value = outcome(lambda: module.IRISDataset(data.clone(), target.clone()))  # noqa: B023
            if kind == "value":
                value = (len(value), [tuple(value[i]) for i in range(min(len(value), n))])
            answers.append((kind, value))
        if answers[0][0] != answers[1][0]:
            raise Differs(f"IRISDataset({n}): {answers[1]}")
        same(list(answers[0][1]), list(answers[1][1]), f"IRISDataset({n})")
    for n in (150, 40, 23):
        data, target = iris(g, n)
        seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
        answers = []
        for module in (ref, sub):
            dataset = torch.utils.data.TensorDataset(data, target)
            generator = torch.Generator().manual_seed(seed)
            torch.manual_seed(seed + 1)
            kind, value = outcome(lambda: module.make_loaders(dataset, generator))  # noqa: B023
            if kind == "value":
                value = [describe_loader(loader, dataset, generator) for loader in value]
            answers.append((kind, value))
        if answers[0][0] != answers[1][0]:
            raise Differs(f"make_loaders({n}): {answers[1]}")
        same(answers[0][1], answers[1][1], f"make_loaders({n})")


def probed_model(n_in: int, n_out: int, state: dict, stale: dict | None, *, evaluating: bool) -> tuple:
    """Linear, dropout, Linear; records (training, grad, inference, batch) at every forward call."""
    model = torch.nn.Sequential(torch.nn.Linear(n_in, 8), torch.nn.Dropout(0.25), torch.nn.Linear(8, n_out))
    model.load_state_dict(state)
    for name, p in model.named_parameters():
        p.grad = None if stale is None else stale[name].clone()
    records: list[tuple] = []
    model[1].register_forward_pre_hook(lambda m, args: records.append(
        (m.training, torch.is_grad_enabled(), torch.is_inference_mode_enabled(), args[0].shape[0])))
    return (model.eval() if evaluating else model), records


def model_state(g: torch.Generator, n_in: int, n_out: int) -> dict:
    return {"0.weight": 0.3 * randn(g, 8, n_in), "0.bias": 0.1 * randn(g, 8),
            "2.weight": 0.3 * randn(g, n_out, 8), "2.bias": 0.1 * randn(g, n_out)}


def run_training(ref: ModuleType, sub: ModuleType, g: torch.Generator, call: Callable, n_in: int, n_out: int,
                 where: str, *, evaluating: bool, optimizer: str = "SGD", lr: float = 0.1) -> None:
    state = model_state(g, n_in, n_out)
    stale = {k: randn(g, *v.shape) for k, v in state.items()}
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
    answers = []
    for module in (ref, sub):
        model, records = probed_model(n_in, n_out, state, stale, evaluating=evaluating)
        opt = getattr(torch.optim, optimizer)(model.parameters(), lr=lr)
        torch.manual_seed(seed)
        kind, value = outcome(lambda: call(module, model, opt))  # noqa: B023
        if kind == "value":
            value = (value, records, [p.detach().clone() for p in model.parameters()])
        answers.append((kind, value))
    if answers[0][0] != answers[1][0]:
        raise Differs(f"{where}: {answers[1]}")
    if answers[0][0] == "value":
        same(list(answers[0][1]), list(answers[1][1]), where)


def check_exercise9(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    sizes = {f"layers.{i}.{kind}": shape for i, (o, n) in enumerate([(16, 4), (8, 16), (3, 8)])
             for kind, shape in (("weight", (o, n)), ("bias", (o,)))}
    reference, submission = ref.IRISClassifier(), sub.IRISClassifier()
    same({k: tuple(v.shape) for k, v in reference.state_dict().items()},
         {k: tuple(v.shape) for k, v in submission.state_dict().items()}, "IRISClassifier's parameters")
    state = {k: 0.3 * randn(g, *shape) for k, shape in sizes.items()}
    reference.load_state_dict(state)
    submission.load_state_dict(state)
    x = randn(g, 12, 4)
    same(reference(x).detach(), submission(x).detach(), "IRISClassifier forward")
    for n, batch, evaluating in [(30, 10, True), (23, 10, False), (7, 3, True)]:
        data, target = iris(g, n)
        loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data, target), batch_size=batch)
        run_training(ref, sub, g, lambda m, model, opt, loader=loader: m.train_one_epoch(
            model, loader, torch.nn.CrossEntropyLoss(), opt), 4, 3, f"train_one_epoch({n})", evaluating=evaluating)
        run_training(ref, sub, g, lambda m, model, opt, loader=loader: m.evaluate(
            model, loader, torch.nn.CrossEntropyLoss()), 4, 3, f"evaluate({n}, {batch})", evaluating=False)


def check_exercise10(ref: ModuleType, sub: ModuleType, g: torch.Generator) -> None:
    for loss, classes, optimizer, epochs, evaluating in [(torch.nn.L1Loss, False, "SGD", 5, True),
                                                         (torch.nn.CrossEntropyLoss, True, "Adam", 3, True),
                                                         (torch.nn.MSELoss, False, "SGD", 4, False)]:
        if classes:
            (x_train, y_train), (x_test, y_test) = iris(g, 24), iris(g, 9)
        else:
            x_train, x_test = randn(g, 24, 1), randn(g, 9, 1)
            y_train, y_test = 0.7 * x_train + 0.3, 0.7 * x_test + 0.3
        run_training(ref, sub, g, lambda m, model, opt: m.trainer(  # noqa: B023
            model, loss(), opt, x_train, y_train, x_test, y_test, epochs),  # noqa: B023
            4 if classes else 1, 3 if classes else 1, f"trainer({loss.__name__})", evaluating=evaluating,
            optimizer=optimizer, lr=0.05)


CHECKS = {name.removeprefix("check_"): check for name, check in globals().items() if name.startswith("check_exercise")}


def verdicts(path: Path) -> dict[int, str | None]:
    """For each seed: None when the file agrees with the solution, else the first difference."""
    exercise = path.parent.name
    reference = load(REPO / "solutions" / f"{exercise}.py", f"reference_{exercise}")
    submission = load(path, f"corpus_{exercise}_{path.stem}")
    found = {}
    for seed in SEEDS:
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        try:
            CHECKS[exercise](reference, submission, generator)
            found[seed] = None
        except Differs as difference:
            found[seed] = str(difference)
    return found


def main() -> int:
    from accuracy_corpus import corpus  # noqa: PLC0415

    bad = 0
    for case in corpus():
        found = verdicts(case.path)
        if case.correct:
            lies = {seed: why for seed, why in found.items() if why is not None}
        else:
            lies = {seed: "agrees with the solution" for seed, why in found.items() if why is None}
        if lies:
            bad += 1
            print(f"UNTRUE {case.name}: {lies}")
        elif "-v" in sys.argv:
            print(f"ok     {case.name}: {next(iter(found.values()))}")
    print(f"{bad} untrue expectations in the corpus")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    sys.exit(main())
