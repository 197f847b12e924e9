"""A student's reply, checked against the request it answers, before anything compares it.

A room can send back anything that decodes as plain data: its serving code
is the submission's to rewrite (ARCHITECTURE.md: the room is the
submission's; a reply is checked against its request). So each reply is
read here against what was asked: every field present with
its type and nothing else, lists of exactly the length asked for (one
gradient per argument, one state per argument), tensors of the shape and
dtype their request implies, integers within 64 bits, counts and shapes
that are counts. Text the submission made (names, messages, strings it
returned) is cut to a bound, with a note saying so. Anything else raises
``MalformedReply``: the submission's failing verdict, never a skipped
comparison and never an error inside the grader's comparison.

One small reader per request kind (``Call``, ``Inspect``); trusted subjects
(the reference, known mistakes, recordings) are not read through here.
"""
from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any

import torch

from grader.engine.protocol import Build, Call, Inspect, Reply, Request
from grader.sandbox.captured import printable
from grader.sandbox.untrusted import probes, views
from grader.sandbox.wire import Unsupported

MAX_TEXT_CHARS = 2000  # error messages, tracebacks, strings the submission returned
MAX_NAME_CHARS = 200  # parameter, layer and type names, dict keys
MAX_ITEMS = 1000  # parameters, plain tensors and layers of one module; parameters' gradients
MAX_DIMS = 64  # dimensions of one shape
MAX_COUNT = 1 << 48  # a size of a dimension, a layer's in/out features
INT_LIMIT = 1 << 63  # integers anywhere in a reply: within 64 bits, as torch's own
ERROR_FIELDS = frozenset({"type", "message", "traceback", "kind"})
ERROR_KINDS = frozenset({"student", "missing name", "structure", "memory", "disk", "exit", "grader"})
CUT = "…"


class MalformedReply(ValueError):
    """A reply that does not answer its request: what is wrong, in plain words."""


def read_reply(request: Request, data: Any) -> tuple[Reply, tuple[str, ...]]:
    """``data`` (a decoded reply) as a ``Reply`` to ``request``, and a note for
    each thing that was cut to its bound. Raises MalformedReply."""
    reader = _Reader()
    if type(data) is not dict:
        raise MalformedReply(f"the answer is {_kind(data)}, expected a dict")
    if "error" in data:
        _fields(data, {"error"}, "an error answer")
        return Reply(error=reader.error(data["error"])), tuple(reader.cuts)
    if isinstance(request, Call):
        reply = _call_reply(request, data, reader)
    elif isinstance(request, Inspect):
        _fields(data, {"value"}, "the answer")
        reply = Reply(value=reader.module_info(data["value"], "the module"))
    else:  # pragma: no cover - a new request kind needs its reader here
        raise TypeError(f"no reader for {type(request).__name__}")
    return reply, tuple(reader.cuts)


def _call_reply(request: Call, data: dict[str, Any], reader: _Reader) -> Reply:
    required, optional = {"value"}, {"arg_names"}
    if request.cotangent is not None:  # a gradient, or why there is none
        required |= {"grad_error"} if "grad_error" in data else {"input_grads", "param_grads"}
    if request.after:
        required.add("after")
        optional |= {"target_after", "returns_arg"}  # target_after only when the target is an nn.Module
    if request.after_grads:
        required.add("after_grads")
    _fields(data, required, "the answer", optional)
    reply: dict[str, Any] = {"value": (reader.viewed(data["value"], "the result", len(request.args))
                                       if request.views else reader.value(data["value"], "the result"))}
    if "arg_names" in data:
        reply["arg_names"] = _arg_names(request, data["arg_names"], reader)
    if "returns_arg" in data:
        reply["returns_arg"] = _returns_arg(request, data["returns_arg"])
    if "grad_error" in data:
        reply["grad_error"] = reader.text(data["grad_error"], "why there is no gradient")
    if "input_grads" in data:
        reply["input_grads"] = _input_grads(request, data["input_grads"], reader)
        reply["param_grads"] = reader.mapping(data["param_grads"], "the parameters' gradients",
                                              lambda g, where: reader.optional_tensor(g, where))
    if request.after:
        reply["after"] = _after(request, data["after"], reader)
        target_after = data.get("target_after")
        reply["target_after"] = (None if target_after is None
                                 else reader.module_info(target_after, "the module after the call"))
    if request.after_grads:
        reply["after_grads"] = _after_grads(request, data["after_grads"], reader)
    return Reply(**reply)


def _arg_names(request: Call, names: Any, reader: _Reader) -> list[Any]:
    """One name per argument, as the function's signature calls it (or None):
    exactly as many as the request passed, each a bounded name."""
    count = len(request.args)
    if type(names) is not list:
        raise MalformedReply(f"the arguments' names are {_kind(names)}, expected a list of {count}")
    if len(names) != count:
        raise MalformedReply(f"{len(names)} argument names came back for {count} arguments")
    return [None if name is None else reader.name(name, "an argument's name") for name in names]


def _returns_arg(request: Call, index: Any) -> int | None:
    """Which argument the function returned itself, if any: an index into the request's arguments."""
    if index is None:
        return None
    if type(index) is not int or not 0 <= index < len(request.args):
        raise MalformedReply(f"the returned argument is {_number_words(index)}, expected an index below "
                             f"{len(request.args)} or None")
    return index


def _input_grads(request: Call, grads: Any, reader: _Reader) -> list[Any]:
    """One gradient per argument: a tensor shaped like it (or None: unused) for
    an argument that requires grad, None for every other argument."""
    count = len(request.args)
    if type(grads) is not list:
        raise MalformedReply(f"the gradients are {_kind(grads)}, expected a list of {count}")
    if len(grads) != count:
        raise MalformedReply(f"{len(grads)} gradients came back for {count} arguments")
    out = []
    for index, (argument, grad) in enumerate(zip(request.args, grads, strict=True)):
        where = f"the gradient w.r.t. argument {index + 1}"
        if _requires_grad(argument):
            out.append(reader.optional_tensor(grad, where, like=argument))
        elif grad is not None:
            raise MalformedReply(f"{where} came back, but that argument does not require grad")
        else:
            out.append(None)
    return out


def _after(request: Call, states: Any, reader: _Reader) -> list[Any]:
    """One state per argument: a tensor for a tensor, a module's structure (or
    None) for a built object, None for anything else."""
    count = len(request.args)
    if type(states) is not list:
        raise MalformedReply(f"the arguments after the call are {_kind(states)}, expected a list of {count}")
    if len(states) != count:
        raise MalformedReply(f"{len(states)} arguments came back after the call, for {count}")
    out: list[Any] = []
    for index, (argument, state) in enumerate(zip(request.args, states, strict=True)):
        where = f"argument {index + 1} after the call"
        if type(argument) is torch.Tensor:
            out.append(reader.tensor(state, where))
        elif isinstance(argument, Build) and request.views and type(state) is dict and "view" in state:
            out.append(reader.view(state, where, count))
        elif isinstance(argument, Build) and state is not None:
            out.append(reader.module_info(state, where))
        elif state is not None:
            raise MalformedReply(f"{where} came back as {_kind(state)}, expected nothing")
        else:
            out.append(None)
    return out


def _after_grads(request: Call, states: Any, reader: _Reader) -> list[Any]:
    """One autograd state per argument: for a tensor, whether it requires grad
    and its .grad (None, or a tensor shaped and typed like the argument, as
    torch itself insists); None for anything else."""
    count = len(request.args)
    if type(states) is not list:
        raise MalformedReply(f"the arguments' gradients after the call are {_kind(states)}, "
                             f"expected a list of {count}")
    if len(states) != count:
        raise MalformedReply(f"{len(states)} arguments' gradients came back after the call, for {count}")
    out: list[dict[str, Any] | None] = []
    for index, (argument, state) in enumerate(zip(request.args, states, strict=True)):
        where = f"the autograd state of argument {index + 1} after the call"
        if type(argument) is not torch.Tensor:
            if state is not None:
                raise MalformedReply(f"{where} came back as {_kind(state)}, but that argument is not a tensor")
            out.append(None)
            continue
        if type(state) is not dict:
            raise MalformedReply(f"{where} is {_kind(state)}, expected a dict")
        _fields(state, {"requires_grad", "grad"}, where)
        out.append({"requires_grad": reader.flag(state["requires_grad"], f"whether {where} requires grad"),
                    "grad": reader.optional_tensor(state["grad"], f"the .grad in {where}", like=argument)})
    return out


def _requires_grad(argument: Any) -> bool:
    # As the room decodes it: requires_grad crosses only on floating tensors.
    return type(argument) is torch.Tensor and argument.requires_grad and argument.is_floating_point()


def _fields(data: dict[str, Any], required: Set[str], what: str, optional: Set[str] = frozenset()) -> None:
    missing = sorted(required - data.keys())
    if missing:
        raise MalformedReply(f"{what} has no {', '.join(missing)}")
    extra = [key for key in data if key not in required and key not in optional]
    if extra:
        more = f" and {len(extra) - 3} more" if len(extra) > 3 else ""
        shown = ", ".join(_short_name(key) for key in extra[:3]) + more
        raise MalformedReply(f"{what} has fields nobody asked for: {shown}")


@dataclass
class _Reader:
    """Reads the parts of one reply; notes everything it cut."""

    cuts: list[str] = field(default_factory=list)

    def text(self, value: Any, where: str, limit: int = MAX_TEXT_CHARS) -> str:
        if type(value) is not str:
            raise MalformedReply(f"{where} is {_kind(value)}, expected text")
        if len(value) > limit:
            self.cuts.append(f"{where} ({len(value):,} characters) was cut to its first {limit:,}")
            value = value[:limit] + CUT
        return printable(value)

    def name(self, value: Any, where: str) -> str:
        return self.text(value, where, MAX_NAME_CHARS)

    def flag(self, value: Any, where: str) -> bool:
        if type(value) is not bool:
            raise MalformedReply(f"{where} is {_kind(value)}, expected True or False")
        return value

    def count(self, value: Any, where: str) -> int:
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            raise MalformedReply(f"{where} is {_number_words(value)}, expected a count")
        return value

    def shape(self, value: Any, where: str) -> list[int]:
        if type(value) is not list or len(value) > MAX_DIMS:
            raise MalformedReply(f"{where} is {_kind(value)}, expected a shape (a list of sizes)")
        return [self.count(size, where) for size in value]

    def tensor(self, value: Any, where: str, like: torch.Tensor | None = None) -> torch.Tensor | Unsupported:
        """A tensor (shaped and typed like ``like`` if given); a value the room
        could not send (``Unsupported``) passes, for the comparison to name it."""
        if type(value) is Unsupported:
            return _unsupported(value)
        if type(value) is not torch.Tensor:
            raise MalformedReply(f"{where} is {_kind(value)}, expected a tensor")
        if like is not None and (value.shape != like.shape or value.dtype != like.dtype):
            raise MalformedReply(f"{where} is a {_dtype(value)} tensor of shape {tuple(value.shape)}, "
                                 f"expected {_dtype(like)} {tuple(like.shape)} like the argument")
        return value

    def optional_tensor(self, value: Any, where: str,
                        like: torch.Tensor | None = None) -> torch.Tensor | Unsupported | None:
        return None if value is None else self.tensor(value, where, like)

    def items(self, value: Any, where: str, read: Callable[[Any, str], Any]) -> list[Any]:
        if type(value) is not list:
            raise MalformedReply(f"{where} is {_kind(value)}, expected a list")
        if len(value) > MAX_ITEMS:
            self.cuts.append(f"{where}: {len(value):,} came back; only the first {MAX_ITEMS:,} were read")
        return [read(item, where) for item in value[:MAX_ITEMS]]

    def mapping(self, value: Any, where: str, read: Callable[[Any, str], Any]) -> dict[str, Any]:
        if type(value) is not dict:
            raise MalformedReply(f"{where} are {_kind(value)}, expected a dict")
        if len(value) > MAX_ITEMS:
            self.cuts.append(f"{where}: {len(value):,} came back; only the first {MAX_ITEMS:,} were read")
        return {self.name(key, f"a name in {where}"): read(item, where)
                for key, item in list(value.items())[:MAX_ITEMS]}

    def error(self, value: Any) -> dict[str, Any]:
        """The exception the submission raised, as the room describes it."""
        if type(value) is not dict:
            raise MalformedReply(f"the error is {_kind(value)}, expected a dict")
        _fields(value, ERROR_FIELDS - {"traceback"}, "the error", {"traceback"})
        if value["kind"] not in ERROR_KINDS:
            raise MalformedReply(f"the error is of an unknown kind {_short_name(value['kind'])}")
        return {"type": self.name(value["type"], "the error's type"),
                "message": self.text(value["message"], "the error's message"),
                "traceback": self.text(value.get("traceback", ""), "the error's traceback"),
                "kind": value["kind"]}

    def value(self, value: Any, where: str) -> Any:
        """Any plain value the submission returned, its strings cut and its integers bounded."""
        kind = type(value)
        if value is None or kind in (bool, float, torch.Tensor):
            return value
        if kind is Unsupported:
            return _unsupported(value)
        if kind is int:
            if not -INT_LIMIT <= value < INT_LIMIT:
                raise MalformedReply(f"{where} holds {_number_words(value)}, beyond 64 bits")
            return value
        if kind is str:
            return self.text(value, f"a string in {where}")
        if kind is list:
            return [self.value(item, where) for item in value]
        if kind is tuple:
            return tuple(self.value(item, where) for item in value)
        if kind is dict:
            return {self.name(key, f"a key in {where}"): self.value(item, where) for key, item in value.items()}
        raise MalformedReply(f"{where} holds {_kind(value)}, which is not plain data")

    def module_info(self, value: Any, where: str) -> dict[str, Any]:
        """A module's structure and parameter values (``executor.module_info``)."""
        if type(value) is not dict:
            raise MalformedReply(f"{where} is {_kind(value)}, expected a module's description")
        if value.get("is_module") is False:
            _fields(value, {"type", "is_module"}, where)
            return {"type": self.name(value["type"], f"the type of {where}"), "is_module": False}
        _fields(value, {"type", "is_module", "parameters", "plain_tensors", "children"}, where, {"probes"})
        self.flag(value["is_module"], f"whether {where} is a module")
        info = {"type": self.name(value["type"], f"the type of {where}"), "is_module": True,
                "parameters": self.items(value["parameters"], f"the parameters of {where}", self._parameter),
                "plain_tensors": self.items(value["plain_tensors"], f"the plain tensors of {where}",
                                            self._plain_tensor),
                "children": self.items(value["children"], f"the layers of {where}", self._child)}
        if "probes" in value:
            info["probes"] = self.items(value["probes"], f"the probes of {where}", self._probe)
        return info

    def _probe(self, value: Any, where: str) -> dict[str, Any]:
        """A probe's records (``untrusted/probes.py``): one per forward call, up to its bound."""
        self._record(value, {"name", "calls", "records"}, where)
        calls = self.count(value["calls"], f"the calls of a probe in {where}")
        records = value["records"]
        if type(records) is not list or len(records) != min(calls, probes.MAX_RECORDS):
            raise MalformedReply(f"a probe in {where} says it ran {calls} times but holds "
                                 f"{_kind(records) if type(records) is not list else len(records)} records")
        return {"name": self.name(value["name"], f"a probe's name in {where}"), "calls": calls,
                "records": [self._probe_record(r, where) for r in records]}

    def _probe_record(self, value: Any, where: str) -> dict[str, Any]:
        self._record(value, {"training", "grad", "inference", "batch"}, f"the records of a probe in {where}")
        record = {key: self.flag(value[key], f"a probe's record in {where}")
                  for key in ("training", "grad", "inference")}
        batch = value["batch"]
        return {**record, "batch": None if batch is None else self.count(batch, f"a batch size in {where}")}

    def viewed(self, value: Any, where: str, arguments: int) -> Any:
        """A result of a request with ``views``: plain values, where any dict
        with a ``view`` key is a view, read strictly."""
        kind = type(value)
        if kind is dict and "view" in value:
            return self.view(value, where, arguments)
        if kind in (list, tuple):
            return kind(self.viewed(item, where, arguments) for item in value)
        if kind is dict:
            return {self.name(key, f"a key in {where}"): self.viewed(item, where, arguments)
                    for key, item in value.items()}
        return self.value(value, where)

    def view(self, value: Any, where: str, arguments: int, depth: int = 0) -> dict[str, Any]:
        """One view (``untrusted/views.py``): its fields exactly, its lists
        within the room's bounds and as long as its counts say."""
        if type(value) is not dict or type(value.get("view")) is not str:
            raise MalformedReply(f"{where} is {_kind(value)}, expected a description of an object")
        kind = value["view"]
        if depth > views.MAX_DEPTH:
            raise MalformedReply(f"{where} nests descriptions deeper than {views.MAX_DEPTH}")
        if kind == "argument" and depth > 0:
            _fields(value, {"view", "index"}, where)
            index = value["index"]
            if type(index) is not int or not 0 <= index < arguments:
                raise MalformedReply(f"{where} names argument {_number_words(index)}, expected an index "
                                     f"below {arguments}")
            return {"view": kind, "index": index}
        if kind in ("generator", "object"):
            _fields(value, {"view", "type"}, where)
            return {"view": kind, "type": self.name(value["type"], f"the type of {where}")}
        if kind == "dataset":
            _fields(value, {"view", "type", "length", "items"}, where)
            length = None if value["length"] is None else self.count(value["length"], f"the length of {where}")
            items = self._bounded(value["items"], 0 if length is None else min(length, views.MAX_ITEMS),
                                  f"the items of {where}")
            return {"view": kind, "type": self.name(value["type"], f"the type of {where}"), "length": length,
                    "items": [self.value(item, f"an item of {where}") for item in items]}
        if kind == "subset":
            _fields(value, {"view", "type", "length", "indices", "dataset"}, where)
            length = self.count(value["length"], f"the length of {where}")
            indices = self._bounded(value["indices"], min(length, views.MAX_INDICES), f"the indices of {where}")
            return {"view": kind, "type": self.name(value["type"], f"the type of {where}"), "length": length,
                    "indices": [self.count(i, f"an index of {where}") for i in indices],
                    "dataset": self.view(value["dataset"], f"the dataset of {where}", arguments, depth + 1)}
        if kind == "loader":
            _fields(value, {"view", "type", "batch_size", "drop_last", "num_workers", "sampler", "shuffled",
                            "generator", "dataset", "batches"}, where)
            size = value["batch_size"]
            batches = value["batches"]
            if type(batches) is not list or len(batches) > views.MAX_BATCHES:
                got = _kind(batches) if type(batches) is not list else f"{len(batches)} batches"
                raise MalformedReply(f"the batches of {where} are {got}, expected at most {views.MAX_BATCHES}")
            return {"view": kind, "type": self.name(value["type"], f"the type of {where}"),
                    "batch_size": None if size is None else self.count(size, f"the batch size of {where}"),
                    "drop_last": self.flag(value["drop_last"], f"drop_last of {where}"),
                    "num_workers": self.count(value["num_workers"], f"the workers of {where}"),
                    "sampler": self.name(value["sampler"], f"the sampler of {where}"),
                    "shuffled": self.flag(value["shuffled"], f"whether {where} shuffles"),
                    "generator": self._origin(value["generator"], where, arguments),
                    "dataset": self.view(value["dataset"], f"the dataset of {where}", arguments, depth + 1),
                    "batches": [self.value(batch, f"a batch of {where}") for batch in batches]}
        raise MalformedReply(f"{where} is a description of an unknown kind {_short_name(kind)}")

    @staticmethod
    def _bounded(value: Any, length: int, where: str) -> list[Any]:
        if type(value) is not list or len(value) != length:
            got = _kind(value) if type(value) is not list else f"{len(value)} entries"
            raise MalformedReply(f"{where} are {got}, expected {length}")
        return value

    @staticmethod
    def _origin(value: Any, where: str, arguments: int) -> str:
        """Which generator shuffles a loader: none, global, another, or argument i."""
        if value in ("none", "global", "another"):
            return str(value)
        if type(value) is str and value.startswith("argument ") and value[9:].isdigit() \
                and len(value) < 16 and int(value[9:]) < arguments:
            return value
        raise MalformedReply(f"the generator of {where} is {_short_name(value)}, expected none, global, "
                             f"another or an argument's index")

    def _parameter(self, value: Any, where: str) -> dict[str, Any]:
        fields = {"name", "shape", "dtype", "requires_grad", "is_parameter", "value"}
        self._record(value, fields, where)
        parameter = {"name": self.name(value["name"], f"a name in {where}"),
                     "shape": self.shape(value["shape"], f"a shape in {where}"),
                     "dtype": self.name(value["dtype"], f"a dtype in {where}"),
                     "requires_grad": self.flag(value["requires_grad"], where),
                     "is_parameter": self.flag(value["is_parameter"], where),
                     "value": self.tensor(value["value"], f"a value in {where}")}
        tensor, shape, dtype = parameter["value"], parameter["shape"], parameter["dtype"]
        if type(tensor) is torch.Tensor and (list(tensor.shape), _dtype(tensor)) != (shape, dtype):
            raise MalformedReply(f"a parameter in {where} says it is {dtype} {shape} "
                                 f"but its value is {_dtype(tensor)} {list(tensor.shape)}")
        return parameter

    def _plain_tensor(self, value: Any, where: str) -> dict[str, Any]:
        self._record(value, {"name", "shape", "requires_grad"}, where)
        return {"name": self.name(value["name"], f"a name in {where}"),
                "shape": self.shape(value["shape"], f"a shape in {where}"),
                "requires_grad": self.flag(value["requires_grad"], where)}

    def _child(self, value: Any, where: str) -> dict[str, Any]:
        self._record(value, {"name", "type", "in_features", "out_features"}, where)
        features = {key: None if value[key] is None else self.count(value[key], f"{key} of a layer in {where}")
                    for key in ("in_features", "out_features")}
        return {"name": self.name(value["name"], f"a name in {where}"),
                "type": self.name(value["type"], f"a type in {where}"), **features}

    @staticmethod
    def _record(value: Any, fields: set[str], where: str) -> None:
        if type(value) is not dict:
            raise MalformedReply(f"an entry of {where} is {_kind(value)}, expected a dict")
        _fields(value, fields, f"an entry of {where}")


def _unsupported(value: Unsupported) -> Unsupported:
    # Its type's name is the submission's to choose (the wire already cut it).
    return Unsupported(printable(value.type_name))


def _kind(value: Any) -> str:
    if type(value) is Unsupported:
        return f"a {value.type_name} (not plain data)"
    if type(value) is torch.Tensor:
        return f"a tensor of shape {tuple(value.shape)}"
    if value is None:
        return "None"
    if type(value) in (int, float):
        return _number_words(value)
    return f"a {type(value).__name__}"


def _number_words(value: Any) -> str:
    if type(value) is int and abs(value) >= INT_LIMIT:
        return f"an integer of {len(str(abs(value)))} digits"
    if type(value) in (int, float):
        return f"the number {value!r}"
    return _kind(value)


def _short_name(value: Any) -> str:
    text = repr(value) if type(value) is str else _kind(value)
    return text if len(text) <= 40 else text[:39] + CUT


def _dtype(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")
