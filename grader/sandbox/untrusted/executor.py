"""Answer plain-data requests against one loaded module.

The same executor serves a student's module inside a sandbox and, in the
grader's own process, the trusted reference solution and known-mistake
mutants: one contract, two places. Requests and replies are plain data
(see ``grader.sandbox.wire``); a student's exception is a reply, not a crash.

Request ops:
  call     {"target": T, "args": [A...], "kwargs": {name: A}, "cotangent": tensor|None,
            "autograd": bool, "after": bool, "grads": [tensor|None...] (optional),
            "after_grads": bool (optional)}
           -> {"value", "arg_names", ...}: ``arg_names`` names each argument as the
           function's signature does (None where it cannot), so messages can say
           "the gradient w.r.t. `w`"; with ``after``, ``returns_arg`` is the index of
           the tensor argument the function changed in place and returned itself
           (the very object), or None; with ``after_grads``, ``after_grads`` holds, per
           argument, {"requires_grad": bool, "grad": tensor|None} for a tensor, None otherwise;
           optional: "seed": n seeds torch's global RNG
           before anything is built (inside ``torch.random.fork_rng``, so the grader's
           own RNG is untouched); "views": true describes datasets, loaders and
           generators in the result and in the arguments after the call as plain
           data (``views.py``); "epochs": n calls the target n times on the same
           arguments (one epoch each, what it trained carried over) and answers the list
           of its n values
  inspect  {"build": B}  -> the module's structure and parameter values
  many     {"requests": [...]} -> {"replies": [...]}, one round trip for several
A target T is {"name": "model"} (a module attribute) or {"build": B}; an
argument A is {"value": v} or {"build": B}; a build B is {"target": "LinearModel"
or "torch.nn.Linear", "args": [...], "kwargs": {...}, "state": {...}|None,
"params_of": i|None, "grads": {name: tensor}|None} (i: index of an earlier
built argument whose ``parameters()`` go first, e.g. for an optimizer). With
"tagged": true, a build's args and kwargs are arguments A themselves, so builds
nest (a DataLoader of a TensorDataset, a Sequential of layers); nested builds
are not counted among the call's built arguments. A target named "probe.X" is
one of the grader's probes (``probes.py``).

A build's ``state`` is the reference's parameters by the reference's names.
It is loaded by matching, never with a strict ``load_state_dict``: by name,
then by shape and role (weight/bias), counting a module held twice once and
ignoring attribute order, so a model whose structure differs in a detail
(a misspelt name, float64, layers in a ModuleList too) still has its
mathematics graded; the structure test reports the detail. A tensor of
another shape is matched too when the computation can still run: the same
values in another shape ((), (1,), (1, 1)), or a larger tensor of the same
role holding the reference's values in its first rows and columns, zeros
elsewhere (a wider hidden layer computes what the narrower one does). A
reference parameter the student's module lacks (``bias=False``) is left
out, so the computation runs without it. Matched tensors require grad (a
frozen parameter is the structure test's to report). Gradients of a built
module are reported under the reference's names and shapes. Only a
parameter that cannot be matched while the student's module holds tensors
whose values would stay unknown is a ``StructureMismatch`` in the student's
terms. A matched tensor takes the reference's dtype, unless the call then
fails: it is run again with the student's own dtypes (a model written in
float64 throughout converts its inputs itself).
"""
from __future__ import annotations

import copy
import inspect
import math
import types
import warnings
from types import ModuleType
from typing import Any

import torch

from grader.sandbox.untrusted import probes, views
from grader.sandbox.untrusted.failures import MissingName, StructureMismatch, describe_exception

__all__ = ["MissingName", "StructureMismatch", "describe_exception", "run_request"]  # named here too


def run_request(module: ModuleType, request: dict[str, Any], *,
                catch: type[BaseException] = BaseException) -> dict[str, Any]:
    """Run one request; never raises what ``catch`` covers: errors become replies."""
    if request["op"] == "many":  # several requests in one round trip, answered in order
        return {"replies": [run_request(module, r, catch=catch) for r in request["requests"]]}
    try:
        if request["op"] == "call":
            return _call(module, request)
        if request["op"] == "inspect":
            return {"value": module_info(_build(module, request["build"], [], {}))}
        return {"error": {"type": "BadRequest", "message": f"unknown op {request['op']!r}", "kind": "grader"}}
    except catch as error:
        return {"error": describe_exception(error, getattr(module, "__file__", None))}


class _OwnDtypes(Exception):
    """The call failed with the reference's dtypes forced on matched tensors: run it again
    with the student's own (``request``: as it was before the first run)."""

    def __init__(self, request: dict[str, Any]) -> None:
        super().__init__("retry with the student's own dtypes")
        self.request = request


def _call(module: ModuleType, request: dict[str, Any]) -> dict[str, Any]:
    try:
        return _call_once(module, request, own_dtypes=False)
    except _OwnDtypes as retry:
        return _call_once(module, retry.request, own_dtypes=True)


def _call_once(module: ModuleType, request: dict[str, Any], *, own_dtypes: bool) -> dict[str, Any]:
    if request.get("seed") is None:
        return _call_seeded(module, request, own_dtypes=own_dtypes)
    # Dropout, shuffling without a generator, a fresh layer's initial weights:
    # the same draws for the reference and for a correct student.
    with torch.random.fork_rng(devices=[]):
        # torch.manual_seed's CPU part, all a room or a reference computes on: torch.manual_seed
        # also queues a seed for each accelerator, formatting the whole stack for it (~6% of a room's CPU).
        torch.default_generator.manual_seed(int(request["seed"]))
        return _call_seeded(module, request, own_dtypes=own_dtypes)


def _call_seeded(module: ModuleType, request: dict[str, Any], *, own_dtypes: bool = False) -> dict[str, Any]:
    built: list[Any] = []
    matched: dict[int, Matched] = {}  # id of a built module -> its tensors by reference name
    keep = {"own_dtypes": own_dtypes}
    args = [_argument(module, spec, built, matched, keep) for spec in request.get("args", [])]
    kwargs = {k: _argument(module, spec, built, matched, keep) for k, spec in request.get("kwargs", {}).items()}
    for arg, grad in zip(args, request.get("grads") or [], strict=False):
        if grad is not None and type(arg) is torch.Tensor:
            arg.grad = grad.clone()  # an argument that already holds a gradient, as after an earlier backward()
    target_spec = request["target"]
    target = (_build(module, target_spec["build"], built, matched, keep) if "build" in target_spec
              else _lookup(module, target_spec["name"]))
    # The request as it was before the student's code ran on it, should it run again.
    before = copy.deepcopy(request) if any(m.converted for m in matched.values()) else None
    names = argument_names(target, len(args))
    # With ``after``: each tensor argument as given, to tell the argument a
    # function updated in place and returned from one it merely passed through.
    given = ([a.detach().clone() if type(a) is torch.Tensor else None for a in args] if request.get("after")
             else [])
    try:
        if request.get("autograd", True):
            value = _epochs(target, args, kwargs, request.get("epochs"))
        else:
            with torch.no_grad():
                value = _epochs(target, args, kwargs, request.get("epochs"))
    except Exception as error:
        if before is not None:
            raise _OwnDtypes(before) from error
        raise
    reply: dict[str, Any] = {"value": views.viewed(value, args) if request.get("views") else value,
                             "arg_names": names}
    cotangent = request.get("cotangent")
    if cotangent is not None:
        names_of = matched.get(id(target))
        # (Four arguments when nothing was matched: the hostile corpus rewrites this function with that signature.)
        reply.update(_gradients(value, cotangent, args, target) if names_of is None
                     else _fitted(_gradients(value, cotangent, args, target, names_of), names_of))
    if request.get("after"):
        reply["after"] = [_after(a, args if request.get("views") else None) for a in args]
        reply["returns_arg"] = next((i for i, (a, before) in enumerate(zip(args, given, strict=True))
                                     if value is a and before is not None and not torch.equal(before, a.detach())),
                                    None)
        if isinstance(target, torch.nn.Module):
            reply["target_after"] = module_info(target)
    if request.get("after_grads"):
        reply["after_grads"] = [_grad_state(a) for a in args]
    return reply


def _epochs(target: Any, args: list[Any], kwargs: dict[str, Any], epochs: int | None) -> Any:
    """One call, or with ``epochs`` that many on the same arguments: the list of their values."""
    if not epochs:
        return target(*args, **kwargs)
    return [target(*args, **kwargs) for _ in range(int(epochs))]


def argument_names(target: Any, count: int) -> list[str | None]:
    """The name of each of ``count`` positional arguments in ``target``'s
    signature (a module's forward), None where the signature has none."""
    try:
        function = target.forward if isinstance(target, torch.nn.Module) else target
        names: list[str | None] = []
        plain = _plain_positional_names(function)
        if plain is not None:
            names += plain
        else:
            for parameter in inspect.signature(function).parameters.values():
                if parameter.kind == parameter.VAR_POSITIONAL:
                    break
                if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
                    names.append(str(parameter.name)[:200])
    except Exception:  # noqa: BLE001 - a signature the student's code makes unreadable names nothing
        names = []
    return (names + [None] * count)[:count]


def _plain_positional_names(function: Any) -> list[str] | None:
    """What ``inspect.signature`` names as positional parameters, read from the
    code, for a plain function (or a method bound to one) with no attribute of
    its own (no ``__wrapped__``, ``__signature__``...): most calls, at a
    hundredth of the cost. None for anything else."""
    bound = type(function) is types.MethodType
    plain = function.__func__ if bound else function
    if type(plain) is not types.FunctionType or plain.__dict__:
        return None
    code = plain.__code__
    names = [name[:200] for name in code.co_varnames[:code.co_argcount]]
    return names[1:] if bound else names


def _gradients(value: Any, cotangent: torch.Tensor, args: list[Any], target: Any,
               matched: dict[str, torch.Tensor] | None = None) -> dict[str, Any]:
    """Vector-Jacobian product of the output with a given cotangent, w.r.t. the
    arguments that require grad and the called module's parameters (by the
    reference's names when the module was built from a reference state)."""
    inputs = [a for a in args if type(a) is torch.Tensor and a.requires_grad]
    if matched is not None:
        params = [(name, t) for name, t in matched.items() if t.requires_grad]
    else:
        params = list(target.named_parameters()) if isinstance(target, torch.nn.Module) else []
    if type(value) is not torch.Tensor:
        return {"grad_error": f"the result is a {type(value).__name__}, not a tensor"}
    if not value.requires_grad:
        return {"grad_error": "the result is not connected to the inputs (it has no grad_fn)"}
    if value.shape != cotangent.shape:
        return {"grad_error": f"the result has shape {tuple(value.shape)}"}
    # The VJP as the gradient of a scalar: passing grad_outputs instead would
    # import torch.fx's symbolic shapes and sympy on first use (~0.3 s, +35 MB).
    grads = torch.autograd.grad((value * cotangent).sum(), inputs + [p for _, p in params], allow_unused=True)
    input_grads = iter(grads[:len(inputs)])
    return {
        "input_grads": [next(input_grads) if type(a) is torch.Tensor and a.requires_grad else None for a in args],
        "param_grads": {name: g for (name, _), g in zip(params, grads[len(inputs):], strict=False)},
    }


def _fitted(gradients: dict[str, Any], matched: Matched) -> dict[str, Any]:
    """Parameter gradients in the reference's shapes (a matched tensor of another shape)."""
    grads = gradients.get("param_grads")
    if isinstance(grads, dict):
        gradients["param_grads"] = {name: _to_shape(g, matched.shapes[name]) if type(g) is torch.Tensor
                                    and name in matched.shapes else g for name, g in grads.items()}
    return gradients


def _to_shape(tensor: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """``tensor`` in ``shape``: reshaped when it holds as many values, else its leading corner."""
    if tuple(tensor.shape) == shape:
        return tensor
    if tensor.numel() == math.prod(shape):
        return tensor.reshape(shape)
    return tensor[tuple(slice(0, size) for size in shape)]


def _from_shape(tensor: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """A reference-shaped ``tensor`` in the student's ``shape``: reshaped, or zero-padded."""
    if tuple(tensor.shape) == shape:
        return tensor
    if tensor.numel() == math.prod(shape):
        return tensor.reshape(shape)
    padded = tensor.new_zeros(shape)
    padded[tuple(slice(0, size) for size in tensor.shape)] = tensor
    return padded


def _after(arg: Any, args: list[Any] | None = None) -> Any:
    """An argument's state after the call; with ``args`` (a request with
    views), a dataset, loader or generator described."""
    if type(arg) is torch.Tensor:
        return arg.detach()
    if isinstance(arg, torch.nn.Module):
        return module_info(arg)
    if args is not None and views.has_view(arg):
        return views.view_of(arg, args)
    return None


def _grad_state(arg: Any) -> dict[str, Any] | None:
    """A tensor argument's autograd state: whether it requires grad, and its .grad."""
    if type(arg) is not torch.Tensor:
        return None
    with warnings.catch_warnings():  # .grad of a tensor a student made non-leaf in place warns; it is None
        warnings.simplefilter("ignore")
        grad = arg.grad
    return {"requires_grad": bool(arg.requires_grad), "grad": None if grad is None else grad.detach()}


def _argument(module: ModuleType, spec: dict[str, Any], built: list[Any], matched: dict[int, Matched],
              keep: dict[str, Any] | None = None) -> Any:
    if "build" in spec:
        obj = _build(module, spec["build"], built, matched, keep)
    else:
        obj = spec["value"]
        if type(obj) is torch.Tensor and obj._base is not None:
            # A tensor decoded from the wire can be a view of its buffer: the
            # student's code gets a tensor of its own, so torch's messages
            # speak of "a leaf", as they would on the student's machine.
            obj = obj.detach().clone().requires_grad_(obj.requires_grad)
    built.append(obj)
    return obj


def _build(module: ModuleType, spec: dict[str, Any], built: list[Any], matched: dict[int, Matched],
           keep: dict[str, Any] | None = None) -> Any:
    factory = _lookup(module, spec["target"])
    if spec.get("tagged"):  # nested builds: built here, not counted among the call's arguments
        args = [_nested(module, a, built, matched, keep) for a in spec.get("args", [])]
        kwargs = {k: _nested(module, a, built, matched, keep) for k, a in spec.get("kwargs", {}).items()}
    else:
        args, kwargs = list(spec.get("args", [])), dict(spec.get("kwargs", {}))
    if spec.get("params_of") is not None:
        args.insert(0, built[spec["params_of"]].parameters())
    obj = factory(*args, **kwargs)
    if spec.get("state") is not None:
        if not isinstance(obj, torch.nn.Module):
            raise TypeError(f"{spec['target']}() returned a {type(obj).__name__}, not an nn.Module")
        tensors = matched[id(obj)] = load_matched(obj, spec["state"], own_dtypes=bool((keep or {}).get("own_dtypes")))
        for name, grad in (spec.get("grads") or {}).items():
            if name in tensors:
                tensors[name].grad = _from_shape(grad, tuple(tensors[name].shape)).to(tensors[name].dtype).clone()
    return obj


def _nested(module: ModuleType, spec: dict[str, Any], built: list[Any], matched: dict[int, Matched],
            keep: dict[str, Any] | None = None) -> Any:
    return _build(module, spec["build"], built, matched, keep) if "build" in spec else spec["value"]


def _own_tensors(obj: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A module's parameters (each once, however many times it is held) and
    the floating tensors its modules keep as plain attributes."""
    found: dict[str, torch.Tensor] = dict(obj.named_parameters())
    seen = {id(t) for t in found.values()}
    for prefix, child in obj.named_modules():
        for name, value in vars(child).items():
            if type(value) is torch.Tensor and value.is_floating_point() and id(value) not in seen:
                seen.add(id(value))
                found[f"{prefix}.{name}" if prefix else name] = value
    return found


def _role(name: str) -> str:
    """weight or bias (or the name itself): what a parameter does, whatever its module is called."""
    last = name.rsplit(".", 1)[-1].lower()
    return next((role for role in ("weight", "bias") if last.startswith(role)), last)


class Matched(dict[str, torch.Tensor]):
    """A built module's tensors by the reference's names, with the reference's shape of each
    (``shapes``) and whether any was given the reference's dtype instead of its own (``converted``)."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.converted = False


def _squeezed(shape: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(size for size in shape if size != 1)


def _holds(mine: tuple[int, ...], theirs: tuple[int, ...]) -> bool:
    """Whether a tensor of shape ``mine`` can hold one of ``theirs`` in its leading corner."""
    return len(mine) == len(theirs) and all(m >= t for m, t in zip(mine, theirs, strict=True))


def load_matched(obj: torch.nn.Module, state: dict[str, torch.Tensor], *,
                 own_dtypes: bool = False) -> Matched:
    """Give ``obj``'s tensors the values of ``state`` (the reference's), matched
    by name, then by shape and role, then by shape in order, then as the same
    values in another shape, then as the leading corner of a larger tensor of the
    same role (zeros elsewhere); returns the student's tensors by the reference's
    names. A matched tensor takes the reference's dtype too (unless ``own_dtypes``):
    a float64 parameter is the structure test's to report, not every test's.
    Raises StructureMismatch when a reference tensor has no match while some of
    the student's stay unmatched (their values would be unknown)."""
    own = _own_tensors(obj)
    pairs, free = _pair_tensors(own, state)
    missing = [name for name in state if name not in pairs]
    if missing and free:
        name = missing[0]
        raise StructureMismatch(_missing_words(type(obj).__name__, name, state[name], own))
    with torch.no_grad():
        return _take_values(own, state, pairs, own_dtypes=own_dtypes)


def _pair_tensors(own: dict[str, torch.Tensor], state: dict[str, torch.Tensor]
                  ) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """The student's tensor for each reference name it matches (``load_matched``'s order of rules),
    and the student's tensors left unmatched."""
    free = dict(own)
    pairs: dict[str, str] = {}
    for name, value in state.items():
        if name in free and tuple(free[name].shape) == tuple(value.shape):
            pairs[name] = name
            del free[name]
    for fits in (lambda mine, theirs: mine == theirs,
                 lambda mine, theirs: _squeezed(mine) == _squeezed(theirs),
                 _holds):
        for name, value in state.items():
            if name in pairs:
                continue
            shape = tuple(value.shape)
            same_shape = [n for n, t in free.items() if fits(tuple(t.shape), shape)]
            same_role = [n for n in same_shape if _role(n) == _role(name)]
            candidates = same_role if fits is _holds else (same_role or same_shape)
            if candidates:
                pairs[name] = candidates[0]
                del free[candidates[0]]
    return pairs, free


def _take_values(own: dict[str, torch.Tensor], state: dict[str, torch.Tensor], pairs: dict[str, str], *,
                 own_dtypes: bool) -> Matched:
    """Copy each matched reference value into the student's tensor (under no_grad); returns them."""
    tensors = Matched()
    for name in state:
        if name not in pairs:
            continue
        mine = own[pairs[name]]
        value = _from_shape(state[name].detach(), tuple(mine.shape))
        if own_dtypes and mine.is_floating_point():
            value = value.to(mine.dtype)
        tensors.converted |= value.dtype != mine.dtype
        mine.data = value.clone()
        if mine.is_floating_point() and mine.is_leaf and not mine.requires_grad:
            mine.requires_grad_(True)
        tensors[name], tensors.shapes[name] = mine, tuple(state[name].shape)
    return tensors


def _missing_words(type_name: str, name: str, value: torch.Tensor, own: dict[str, torch.Tensor]) -> str:
    has = ", ".join(f"`{n}` {tuple(t.shape)}" for n, t in list(own.items())[:8]) or "none"
    return (f"{type_name} has no parameter like `{name}` (shape {tuple(value.shape)}), so its computation "
            f"cannot be tested; its parameters: {has}")


def _lookup(module: ModuleType, name: str) -> Any:
    if name.startswith(probes.PREFIX):
        try:
            return probes.lookup(name)
        except KeyError:
            raise MissingName(f"the grader has no probe `{name}`") from None
    if name.startswith("torch."):
        obj: Any = torch
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
        return obj
    try:
        return getattr(module, name)
    except AttributeError:
        raise MissingName(f"the file defines no `{name}`") from None


def module_info(obj: Any) -> dict[str, Any]:
    """A module's structure and parameter values, as plain data."""
    if not isinstance(obj, torch.nn.Module):
        return {"type": type(obj).__name__, "is_module": False}
    registered = {id(p) for p in obj.parameters()}
    plain_tensors = [
        {"name": name, "shape": list(value.shape), "requires_grad": bool(value.requires_grad)}
        for name, value in vars(obj).items()
        if isinstance(value, torch.Tensor) and id(value) not in registered
    ]
    info = {
        "type": type(obj).__name__,
        "is_module": True,
        "parameters": [
            {"name": name, "shape": list(p.shape), "dtype": str(p.dtype).removeprefix("torch."),
             "requires_grad": bool(p.requires_grad), "is_parameter": type(p) is torch.nn.Parameter,
             "value": p.detach()}
            for name, p in obj.named_parameters()
        ],
        "plain_tensors": plain_tensors,
        "children": [
            {"name": name, "type": type(child).__name__,
             "in_features": getattr(child, "in_features", None),
             "out_features": getattr(child, "out_features", None)}
            for name, child in obj.named_children()
        ],
    }
    found = probes.probe_records(obj)
    if found:  # only with probes: every other module's description keeps its fields
        info["probes"] = found
    return info


