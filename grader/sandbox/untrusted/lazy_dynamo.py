"""torch._dynamo stood in for until something needs more than two no-ops: in the grader and in every room.

torch.optim imports ``torch._dynamo`` (~1.3 s of CPU here, as much as torch itself) at an
optimizer's first ``step`` (``_use_grad_for_differentiable`` calls ``torch._dynamo.graph_break()``)
and first ``zero_grad`` or ``add_param_group`` (``torch._disable_dynamo`` wraps them with
``torch._dynamo.disable``). Outside a ``torch.compile`` region both do nothing: ``graph_break``
is an empty function and ``disable`` runs the function with no frame evaluator, which is
already the case. So a process that compiles nothing answers those two from a stand-in, and
loads the real module (for good, the stand-in gone) the first time anything asks it for
anything else (``torch.compile`` does, at once).

Installed in the grader (reference solutions and known mistakes train with optimizers) and in
the zygote before it warms torch.optim, so no room pays for torch._dynamo unless its code asks
for it: the student's own ``torch.compile`` loads the real module in that room, on its own CPU
time; the real module rebinds names in torch as it loads, so the room's tripwires retire that
room after its exercise, with that one reason (``tripwires.NamespaceBaseline.dirt``).
What an optimizer computes is the same either way (``tests/test_lazy_dynamo.py``).
"""
from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

NAME = "torch._dynamo"
_loading = threading.Lock()


class DynamoStandIn(types.ModuleType):
    """``torch._dynamo`` as torch.optim meets it outside ``torch.compile``; any other name loads the real one."""

    @staticmethod
    def graph_break(msg: str = "") -> None:
        """Outside a compiled region, torch._dynamo.graph_break does nothing."""

    @staticmethod
    def disable(fn: Callable[..., Any] | None = None, recursive: bool = True, *,  # noqa: ARG004 - its signature
                reason: str | None = None,  # noqa: ARG004
                wrapping: bool = True) -> Any:  # noqa: ARG004
        """The function itself: with no frame evaluator installed (nothing compiled), the real
        ``disable``'s wrapper only calls it."""
        return fn if fn is not None else (lambda function: function)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name != "__path__":  # what tools probe every module for (inspect: __file__)
            raise AttributeError(name)
        return getattr(load_real_dynamo(), name)


def install() -> None:
    """Stand in for torch._dynamo in this process, unless it is imported already."""
    import torch  # noqa: PLC0415 - the runner imports it anyway; this module only names it

    with _loading:
        if NAME in sys.modules:
            return
        stand_in = DynamoStandIn(NAME, __doc__)
        sys.modules[NAME] = stand_in
        torch._dynamo = stand_in  # torch.optim reads it as torch's attribute


def load_real_dynamo() -> types.ModuleType:
    """The real torch._dynamo, in place of the stand-in from now on."""
    import torch  # noqa: PLC0415

    with _loading:
        if isinstance(sys.modules.get(NAME), DynamoStandIn):
            del sys.modules[NAME]
            vars(torch).pop("_dynamo", None)  # torch's own __getattr__ imports it, as before the stand-in
    return importlib.import_module(NAME)
