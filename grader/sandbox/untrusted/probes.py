"""Probes: small objects the grader wrote, built in a room like any torch class.

A suite builds them by name under the reserved prefix ``probe.``
(``Build("probe.ModeProbe")``, ``Build("probe.seeded_generator", (7,))``,
``Call("probe.identity", (...,), views=True)``), so the student's code meets
them from outside: a probe inside a model the student trains records how the
student's code ran it (training or evaluation mode, gradients recorded or
not, inference mode, the batch size), which values alone cannot show. The
same code builds them for the reference, in the grader's own process, so
both sides build the same.

What a probe records lives in the room and is the submission's to rewrite:
the grader reads it back through ``executor.module_info`` and validates it
(``grader/engine/replies.py``) like any other answer. It is an observation
of honest code, not a wall.

Imports only torch and the standard library (the untrusted package's rule).
"""
from __future__ import annotations

from typing import Any

import torch

PREFIX = "probe."
MAX_RECORDS = 256  # forward calls a probe keeps; it still counts the rest


class ModeProbe(torch.nn.Module):
    """An identity layer that records, per forward call, the module's
    training flag, whether autograd records a graph, whether inference mode
    is on, and the batch size (the first dimension of its input)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = []
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if len(self.records) < MAX_RECORDS:
            batch = int(x.shape[0]) if isinstance(x, torch.Tensor) and x.dim() > 0 else None
            self.records.append({"training": bool(self.training), "grad": bool(torch.is_grad_enabled()),
                                 "inference": bool(torch.is_inference_mode_enabled()), "batch": batch})
        return x


def seeded_generator(seed: int) -> torch.Generator:
    """A ``torch.Generator`` seeded with ``seed``: the same on both sides."""
    return torch.Generator().manual_seed(int(seed))


def eval_mode(module: torch.nn.Module) -> torch.nn.Module:
    """``module`` switched to evaluation mode: a model as an earlier evaluation
    left it, so code that must switch it back to training mode shows whether it does."""
    return module.eval()


PROBES: dict[str, Any] = {
    "ModeProbe": ModeProbe, "seeded_generator": seeded_generator, "eval_mode": eval_mode,
    # Returns what it is given: a call target that shows a built object (with
    # ``views``, a dataset or a loader described as plain data). A lambda: a
    # function whose body is a bare ``return`` of its argument reads, to the
    # release's check for solution code, like an exercise's answer.
    "identity": lambda value: value,
}


# How a message shows a probe to a student, who never wrote one: a recording layer is not shown at all
# (None), the others by what they are ("{0}": the probe's first argument, as described).
SHOWN_AS: dict[str, str | None] = {
    "ModeProbe": None, "eval_mode": "{0} in evaluation mode", "seeded_generator": "torch.Generator(seed {0})",
    "identity": "{0}",
}


def lookup(name: str) -> Any:
    """The probe called ``probe.<name>``; KeyError for any other."""
    return PROBES[name.removeprefix(PREFIX)]


def probe_records(module: torch.nn.Module) -> list[dict[str, Any]]:
    """Every probe in ``module`` (each once), by its name, with its records."""
    found = []
    for name, child in module.named_modules():
        if type(child) is ModeProbe:
            found.append({"name": name[:200], "calls": int(child.calls),
                          "records": [dict(r) for r in child.records[:MAX_RECORDS]]})
    return found
