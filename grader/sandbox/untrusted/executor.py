"""Answer plain-data requests against one loaded module.

The same executor serves a student's module inside a sandbox and, in the
grader's own process, the trusted reference solution and known-mistake
mutants: one contract, two places. Requests and replies are plain data
(see ``grader.sandbox.wire``); a student's exception is a reply, not a crash.

Request ops:
  call     {"target": T, "args": [A...], "kwargs": {name: A}, "cotangent": tensor|None,
            "autograd": bool, "after": bool}
  inspect  {"build": B}  -> the module's structure and parameter values
  many     {"requests": [...]} -> {"replies": [...]}, one round trip for several
A target T is {"name": "model"} (a module attribute) or {"build": B}; an
argument A is {"value": v} or {"build": B}; a build B is {"target": "LinearModel"
or "torch.nn.Linear", "args": [...], "kwargs": {...}, "state": {...}|None,
"params_of": i|None} (i: index of an earlier built argument whose
``parameters()`` go first, e.g. for an optimizer).
"""
from __future__ import annotations

import traceback
from types import ModuleType
from typing import Any

import torch

MAX_TEXT = 2000
_MEMORY_WORDS = ("can't allocate memory", "DefaultCPUAllocator", "out of memory")


class MissingName(Exception):
    """The submission does not define a name the exercise asks for."""


def run_request(module: ModuleType, request: dict, *, catch: type[BaseException] = BaseException) -> dict:
    """Run one request; never raises what ``catch`` covers: errors become replies."""
    if request["op"] == "many":  # several requests in one round trip, answered in order
        return {"replies": [run_request(module, r, catch=catch) for r in request["requests"]]}
    try:
        if request["op"] == "call":
            return _call(module, request)
        if request["op"] == "inspect":
            return {"value": module_info(_build(module, request["build"], []))}
        return {"error": {"type": "BadRequest", "message": f"unknown op {request['op']!r}", "kind": "grader"}}
    except catch as error:  # noqa: BLE001 - the student's exception is the answer
        return {"error": describe_exception(error, getattr(module, "__file__", None))}


def _call(module: ModuleType, request: dict) -> dict:
    built: list[Any] = []
    args = [_argument(module, spec, built) for spec in request.get("args", [])]
    kwargs = {k: _argument(module, spec, built) for k, spec in request.get("kwargs", {}).items()}
    target_spec = request["target"]
    target = (_build(module, target_spec["build"], built) if "build" in target_spec
              else _lookup(module, target_spec["name"]))
    if request.get("autograd", True):
        value = target(*args, **kwargs)
    else:
        with torch.no_grad():
            value = target(*args, **kwargs)
    reply: dict[str, Any] = {"value": value}
    cotangent = request.get("cotangent")
    if cotangent is not None:
        reply.update(_gradients(value, cotangent, args, target))
    if request.get("after"):
        reply["after"] = [_after(a) for a in args]
        if isinstance(target, torch.nn.Module):
            reply["target_after"] = module_info(target)
    return reply


def _gradients(value: Any, cotangent: torch.Tensor, args: list, target: Any) -> dict:
    """Vector-Jacobian product of the output with a given cotangent, w.r.t. the
    arguments that require grad and the called module's parameters."""
    inputs = [a for a in args if type(a) is torch.Tensor and a.requires_grad]
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


def _after(arg: Any) -> Any:
    if type(arg) is torch.Tensor:
        return arg.detach()
    if isinstance(arg, torch.nn.Module):
        return module_info(arg)
    return None


def _argument(module: ModuleType, spec: dict, built: list) -> Any:
    if "build" in spec:
        obj = _build(module, spec["build"], built)
    else:
        obj = spec["value"]
    built.append(obj)
    return obj


def _build(module: ModuleType, spec: dict, built: list) -> Any:
    factory = _lookup(module, spec["target"])
    args = list(spec.get("args", []))
    if spec.get("params_of") is not None:
        args.insert(0, built[spec["params_of"]].parameters())
    obj = factory(*args, **spec.get("kwargs", {}))
    if spec.get("state") is not None:
        if not isinstance(obj, torch.nn.Module):
            raise TypeError(f"{spec['target']}() returned a {type(obj).__name__}, not an nn.Module")
        obj.load_state_dict(spec["state"])
    return obj


def _lookup(module: ModuleType, name: str) -> Any:
    if name.startswith("torch."):
        obj: Any = torch
        for part in name.split(".")[1:]:
            obj = getattr(obj, part)
        return obj
    try:
        return getattr(module, name)
    except AttributeError:
        raise MissingName(f"the file defines no `{name}`") from None


def module_info(obj: Any) -> dict:
    """A module's structure and parameter values, as plain data."""
    if not isinstance(obj, torch.nn.Module):
        return {"type": type(obj).__name__, "is_module": False}
    registered = {id(p) for p in obj.parameters()}
    plain_tensors = [
        {"name": name, "shape": list(value.shape), "requires_grad": bool(value.requires_grad)}
        for name, value in vars(obj).items()
        if isinstance(value, torch.Tensor) and id(value) not in registered
    ]
    return {
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


def describe_exception(error: BaseException, filename: str | None) -> dict:
    """Type, message and the submission's own frames, as bounded text."""
    kind = "student"
    if isinstance(error, MissingName):
        kind = "missing name"
    elif isinstance(error, MemoryError) or (isinstance(error, RuntimeError)
                                            and any(w in _safe_str(error) for w in _MEMORY_WORDS)):
        kind = "memory"
    elif isinstance(error, SystemExit):
        kind = "exit"
    frames = [f for f in traceback.extract_tb(error.__traceback__) if filename and f.filename == filename]
    where = "".join(traceback.format_list(frames[-4:]))
    return {
        "type": _safe_type_name(error),
        "message": _safe_str(error)[:MAX_TEXT],
        "traceback": where[-MAX_TEXT:],
        "kind": kind,
    }


def _safe_str(error: BaseException) -> str:
    try:
        text = str(error)
        return text if type(text) is str else "<unprintable>"
    except BaseException:  # noqa: BLE001 - a hostile __str__ must not escape
        return "<unprintable>"


def _safe_type_name(error: BaseException) -> str:
    name = type(error).__name__
    return name if type(name) is str else "Exception"
