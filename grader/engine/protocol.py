"""What a hidden suite can ask of a submission, as small immutable requests.

Suites build ``Call``/``Inspect`` requests; any subject (the student's
sandbox, the live reference, a recorded reference, a known-mistake mutant)
answers them with a ``Reply``. Requests are plain data, so a reply can be
cached and recorded by the request's bytes.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch

from grader.sandbox import wire
from grader.sandbox.untrusted import probes


class _Encoded:
    """Requests are immutable: encode each once, for its cache key and for the wire."""

    def to_plain(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must say what it sends")

    @cached_property
    def encoded(self) -> bytes:
        return wire.encode(self.to_plain())

    @cached_property
    def key(self) -> str:
        return hashlib.sha256(self.encoded).hexdigest()


@dataclass(frozen=True)
class Build:
    """Construct an object in the subject: a class of the submission
    (``"LinearModel"``) or of torch (``"torch.nn.Linear"``), optionally loading
    ``state`` (a state dict) and taking the parameters of an earlier built
    argument first (``params_of``, for optimizers)."""

    target: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    state: dict[str, torch.Tensor] | None = None
    params_of: int | None = None
    # Gradients the built module's parameters already hold (by the state's
    # names), as after an earlier backward(): tells a loop that clears them
    # first from one that clears them after its step.
    grads: dict[str, torch.Tensor] | None = None

    def to_plain(self) -> dict[str, Any]:
        if any(isinstance(a, Build) for a in (*self.args, *self.kwargs.values())):
            # Builds inside a build (a DataLoader of a TensorDataset): every argument tagged, as a
            # Call's are. Only then: the requests of existing recordings keep their keys.
            plain = {"target": self.target, "args": [_argument(a) for a in self.args],
                     "kwargs": {k: _argument(v) for k, v in self.kwargs.items()}, "tagged": True,
                     "state": self.state, "params_of": self.params_of}
        else:
            plain = {"target": self.target, "args": list(self.args), "kwargs": dict(self.kwargs),
                     "state": self.state, "params_of": self.params_of}
        if self.grads:  # only when set: the requests of existing recordings keep their keys
            plain["grads"] = self.grads
        return plain

    def describe(self) -> str:
        """The build in a student's words: torch's classes by their usual names, the grader's probes by
        what they are (``probes.SHOWN_AS``; a recording layer not at all)."""
        words = _probe_words(self.target, self.args)
        if words is not None:
            return words
        shown = [describe_value(a) for a in self.args if not _unshown(a)]
        inner = ", ".join([*shown, *(f"{k}={describe_value(v)}" for k, v in self.kwargs.items())])
        return f"{self.target.removeprefix('torch.').removeprefix('utils.data.')}({inner})"


def _probe_words(target: str, args: tuple[Any, ...]) -> str | None:
    """A probe (built or called) in a student's words (``probes.SHOWN_AS``), or None for anything else."""
    words = probes.SHOWN_AS.get(target.removeprefix(probes.PREFIX)) if target.startswith(probes.PREFIX) else None
    return None if words is None else words.format(*(describe_value(a) for a in args if not _unshown(a)), "")


def _unshown(value: Any) -> bool:
    """A probe a message leaves out (a layer that only records)."""
    return (isinstance(value, Build) and value.target.startswith(probes.PREFIX)
            and probes.SHOWN_AS.get(value.target.removeprefix(probes.PREFIX), "") is None)


ASPECTS = ("modes", "inference_mode", "value", "after")


@dataclass(frozen=True)
class Call(_Encoded):
    """Call ``target`` (a function name, or a built module's forward) with
    ``args``. With ``cotangent``, also return the vector-Jacobian product of
    the result w.r.t. every argument that requires grad and the module's
    parameters. With ``after``, also return the arguments' state after the
    call (in-place updates, trained modules). With ``after_grads``, also
    return each tensor argument's autograd state after the call: whether it
    requires grad and the ``.grad`` it holds (a function that must leave the
    caller's tensors alone, or clear a gradient it used). ``autograd=False``
    runs it under ``torch.no_grad()`` (for code that must not rely on autograd). ``seed``
    seeds torch's global RNG before anything is built or called (dropout,
    shuffling without a generator: the same draws on both sides). ``views``
    describes datasets, loaders and generators in the result and in the
    arguments after the call as plain data (``untrusted/views.py``). With
    ``epochs``, the target is called that many times on the same arguments
    (a training step or an epoch, the model and optimizer carried over) and
    the answer is the list of its values: losses per epoch a report draws
    (``engine/curves.py``), for a function that trains one epoch at a time."""

    target: str | Build
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    cotangent: torch.Tensor | None = None
    after: bool = False
    autograd: bool = True
    # The .grad each positional argument already holds (None: none), as
    # after an earlier backward().
    grads: tuple[Any, ...] = ()
    after_grads: bool = False
    seed: int | None = None
    views: bool = False
    epochs: int = 0
    # Trusted side only, never sent: what each item of a tuple result is, for
    # the words ("the validation loader" rather than "the result[1]").
    parts: tuple[str, ...] = field(default=(), compare=False)
    # Trusted side only, never sent: (kind, fields, request) — the same
    # question with one thing changed the way a known kind of slip changes it
    # (one epoch more, the learning rate doubled). When the student's answer
    # equals the reference's answer to one, the failure says so in the words
    # of ``diagnosis.WORDS[kind]`` formatted with ``fields``.
    variants: tuple[Any, ...] = field(default=(), compare=False)
    # Trusted side only, never sent: which aspects of the answer this question
    # grades (``ASPECTS``), so one call can be graded in parts, each in a test
    # of its own ("modes": how each forward call ran; "inference_mode": under
    # torch.inference_mode(); "value": the result; "after": the arguments after
    # the call). Gradients and autograd state are always graded.
    judged: frozenset[str] = field(default=frozenset(ASPECTS), compare=False)

    def to_plain(self) -> dict[str, Any]:
        target = {"build": self.target.to_plain()} if isinstance(self.target, Build) else {"name": self.target}
        plain: dict[str, Any] = {"op": "call", "target": target,
                 "args": [_argument(a) for a in self.args],
                 "kwargs": {k: _argument(v) for k, v in self.kwargs.items()},
                 "cotangent": self.cotangent, "after": self.after, "autograd": self.autograd}
        if self.grads:  # only when set: the requests of existing recordings keep their keys
            plain["grads"] = list(self.grads)
        if self.after_grads:  # likewise
            plain["after_grads"] = True
        if self.seed is not None:
            plain["seed"] = self.seed
        if self.views:
            plain["views"] = True
        if self.epochs:
            plain["epochs"] = self.epochs
        return plain

    def describe(self) -> str:
        words = _probe_words(self.target, self.args) if isinstance(self.target, str) and not self.kwargs else None
        if words is not None:
            return words  # a probe called only to show what it was given
        name = self.target.describe() if isinstance(self.target, Build) else self.target
        inner = ", ".join([*(describe_value(a) for a in self.args),
                           *(f"{k}={describe_value(v)}" for k, v in self.kwargs.items())])
        return f"{name}({inner}){f' for {self.epochs} epochs' if self.epochs else ''}"


@dataclass(frozen=True)
class Inspect(_Encoded):
    """Construct ``build`` and report its structure and parameter values."""

    build: Build

    def to_plain(self) -> dict[str, Any]:
        return {"op": "inspect", "build": self.build.to_plain()}

    def describe(self) -> str:
        return self.build.describe()


Request = Call | Inspect


def _argument(value: Any) -> dict[str, Any]:
    return {"build": value.to_plain()} if isinstance(value, Build) else {"value": value}


def request_key(request: Request) -> str:
    """A stable identity for a request: equal requests get equal keys."""
    return request.key


def describe_value(value: Any) -> str:
    """Short words for an input, for messages: ``tensor float32 (3, 4)``."""
    if isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        if value.numel() == 1 and value.dim() <= 1:
            return f"tensor({value.item():.4g}{', shape (1,)' if value.dim() == 1 else ''})"
        return f"tensor {str(value.dtype).removeprefix('torch.')} {shape}"
    if isinstance(value, Build):
        return value.describe()
    if isinstance(value, float):
        return f"{value:.4g}"
    return repr(value)


@dataclass(frozen=True)
class Reply:
    """A subject's answer: its value, or the error it raised, as plain data.

    ``from_plain`` is for trusted subjects (the reference, known mistakes); a
    student's answer is read against its request by ``replies.read_reply``."""

    value: Any = None
    error: dict[str, Any] | None = None
    input_grads: list[Any] | None = None
    param_grads: dict[str, Any] | None = None
    grad_error: str | None = None
    after: list[Any] | None = None
    target_after: dict[str, Any] | None = None
    arg_names: list[Any] | None = None  # each argument's name in the function's signature (None: unnamed)
    returns_arg: int | None = None  # the argument the function returned itself, when asked ``after``
    # With ``after_grads``: per argument, {"requires_grad": bool, "grad": tensor | None}
    # for a tensor, None for anything else.
    after_grads: list[Any] | None = None

    @classmethod
    def from_plain(cls, data: dict[str, Any]) -> "Reply":
        error = data.get("error")
        if error is not None and not (type(error) is dict and all(type(v) is str for v in error.values())):
            error = {"type": "MalformedError", "message": "the submission sent back a malformed error",
                     "kind": "student"}
        return cls(value=data.get("value"), error=error, input_grads=data.get("input_grads"),
                   param_grads=data.get("param_grads"), grad_error=data.get("grad_error"),
                   after=data.get("after"), target_after=data.get("target_after"),
                   arg_names=data.get("arg_names"), returns_arg=data.get("returns_arg"),
                   after_grads=data.get("after_grads"))
