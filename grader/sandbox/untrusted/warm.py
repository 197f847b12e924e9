"""What the zygote warms before it forks: torch's and the executor's own paths, an exercise's features
(``limits.WARMABLE``: the first optimizer), the libraries a course names, and its heap in huge pages.

Everything warmed here is paid once in the zygote and shared by every room it
forks (copy-on-write), instead of once per room.
"""
from __future__ import annotations

import ctypes
import importlib
import json
import os
import socket
from typing import Any

import torch

from grader.sandbox import wire
from grader.sandbox.limits import WARMABLE, WARMABLE_LIBRARIES
from grader.sandbox.untrusted import executor

_libc = ctypes.CDLL(None, use_errno=True)


def warm_up() -> None:
    torch.set_num_threads(1)
    x = torch.randn(4, 1, requires_grad=True)
    layer = torch.nn.Linear(1, 2)
    loss = torch.nn.MSELoss()(layer(x).sum(1, keepdim=True), torch.zeros(4, 1))
    torch.autograd.grad(loss, [x, *layer.parameters()])
    torch.autograd.grad((x * x).sum(), [x, torch.zeros(1, requires_grad=True)], allow_unused=True)
    wire.decode(wire.encode({"t": torch.zeros(2), "n": [1, 2.0, None]}))
    _warm_executor()


def _warm_executor() -> None:
    """Run the executor's own paths a few times, so that every sandbox starts
    with them imported and their bytecode already specialised (3.11 quickens
    code on first calls: each child would otherwise redo it, ~4 ms)."""
    import types  # noqa: PLC0415

    module = types.ModuleType("warm_up")
    setattr(module, "affine", lambda x, w, b: w * x + b)  # noqa: B010 - a module built here, for mypy
    setattr(module, "fit", lambda model, loss_fn, _optimizer, x, y: [loss_fn(model(x), y).item()])  # noqa: B010
    x = torch.randn(3, 1, requires_grad=True)
    linear = {"target": "torch.nn.Linear", "args": [1, 1], "kwargs": {},
              "state": {"weight": torch.ones(1, 1), "bias": torch.zeros(1)}, "params_of": None}
    requests = [
        {"op": "call", "target": {"name": "affine"}, "args": [{"value": x}, {"value": 2.0}, {"value": torch.ones(())}],
         "kwargs": {}, "cotangent": torch.ones(3, 1), "after": True, "autograd": True},
        {"op": "call", "target": {"build": linear}, "args": [{"value": x}], "kwargs": {},
         "cotangent": torch.ones(3, 1), "after": False, "autograd": True},
        {"op": "call", "target": {"name": "affine"}, "args": [{"value": x.detach()}, {"value": 2.0}, {"value": 1.0}],
         "kwargs": {}, "cotangent": None, "after": False, "autograd": False},
        {"op": "inspect", "build": {**linear, "state": None}},
    ]
    for _ in range(8):
        reply = executor.run_request(module, wire.decode(wire.encode({"op": "many", "requests": requests})))
        wire.decode(wire.encode(reply, lenient=True))


def queued_warm_requests(control: socket.socket) -> list[str]:
    """The features of every ``warm`` request already waiting on the control
    socket (the grader sends one as soon as it knows its exercises, without
    waiting for ``ready``): warmed before the first settle, not after it."""
    features: list[str] = []
    while True:
        try:
            peeked = control.recv(1 << 16, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return features
        try:
            request = json.loads(peeked)
        except ValueError:
            return features
        if not peeked or type(request) is not dict or request.get("op") != "warm":
            return features  # left for the loop
        control.recv(1 << 16)
        features += [f for f in request.get("warm", []) if type(f) is str]


def warm_features(features: list[str], warmed: set[str]) -> bool:
    """Warm each feature not warmed yet that the zygote knows; whether any was."""
    known = (*WARMABLE, *WARMABLE_LIBRARIES)
    new_features = [f for f in dict.fromkeys(features) if f in known and f not in warmed]
    for feature in new_features:
        _warm_feature(feature)
        warmed.add(feature)
    return bool(new_features)


def _warm_feature(feature: str) -> None:
    """Warm what costs a second on first use, only when an exercise needs it."""
    if feature in WARMABLE_LIBRARIES:
        _import_library(WARMABLE_LIBRARIES[feature])
    if feature == "optim":  # torch.optim's modules; torch._dynamo is stood in for (lazy_dynamo)
        param = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([param], lr=0.1)
        param.sum().backward()
        optimizer.step()
        # An optimizer class's first instance wraps the class's step (Optimizer._patch_step_function): do
        # that here for every class, before the baseline, or a room's first Adam reads as a change to
        # torch.optim that retires the room before the next exercise.
        for optimizer_class in vars(torch.optim).values():
            if isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer) \
                    and optimizer_class is not torch.optim.Optimizer:
                make: Any = optimizer_class  # each subclass takes its own keywords
                try:
                    make([torch.nn.Parameter(torch.zeros(2, 2))], lr=0.1)
                except Exception:  # noqa: BLE001, S110 - a class that needs other arguments is wrapped on first use
                    pass


def _import_library(modules: tuple[str, ...]) -> None:
    """A declared library, imported before the baseline (matplotlib with a backend that draws no window);
    one not installed here is left for the room's import to name, with how to install it."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - not installed, or broken: the student's import says which
            return


_MADV_HUGEPAGE, _MADV_COLLAPSE, _HUGE_PAGE = 14, 25, 2 << 20


def collapse_into_huge_pages() -> None:
    """Back the warm heap with 2 MB pages (Linux >= 6.1, MADV_COLLAPSE): a fork
    then copies one page-table entry per 2 MB instead of 512, and a sandbox's
    exit frees as few; copy-on-write still copies 4 KB at a time. Measured
    here: fork 3.3 -> 1.2 ms. Where the kernel refuses, nothing changes."""
    madvise = _libc.madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    for fields in regions:
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        anonymous = len(fields) < 6 or fields[5] == "[heap]"
        start, end = (low + _HUGE_PAGE - 1) & ~(_HUGE_PAGE - 1), high & ~(_HUGE_PAGE - 1)
        if fields[1].startswith("rw") and anonymous and end > start:
            madvise(start, end - start, _MADV_HUGEPAGE)
            madvise(start, end - start, _MADV_COLLAPSE)
