"""A grading session: the zygote started first, the runner imported after it.

Every command that grades (``grade exerciseN``, ``grade watch``'s rounds,
Gradescope, ``grade verify``, ``grade release``, a local batch worker, a Dask
worker) opens one of these instead of ordering the two steps itself. It holds
the rule *zygote first* (ARCHITECTURE.md) in one place: the zygote is a fresh
interpreter started before this process imports torch, a solution or a hidden
suite, so no room can find them in memory; the runner (which imports torch and
pytest, and compiles the solutions) is imported only by ``runner`` below,
which a session reaches only once its zygote exists.

This module imports no torch: a batch worker boots on it.
"""
from __future__ import annotations

import functools
import gc
from collections.abc import Sequence
from contextlib import AbstractContextManager
from types import ModuleType
from typing import TYPE_CHECKING, Any

from grader.sandbox.client import Zygote

if TYPE_CHECKING:
    from grader.course.catalogue import Course, ExerciseSpec
    from grader.course.submissions import Submission
    from grader.engine.runner import GradeRun


@functools.cache
def _runner_module() -> ModuleType:
    """Import the runner (torch, pytest, the engine: ~1.5 s of CPU) with no cyclic collection meanwhile
    (~15% of it here), then freeze what it made: later collections in this process skip torch's heap."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        from grader.engine import runner  # noqa: PLC0415 - the one place it is imported: after the zygote
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
    return runner


class GradingSession(AbstractContextManager["GradingSession"]):
    """A zygote and the runner that grades with it (use as a context manager, or ``close``)."""

    def __init__(self, zygote: Zygote, *, owned: bool, wait_on_close: bool = True) -> None:
        self.zygote, self.owned, self.wait_on_close = zygote, owned, wait_on_close

    @classmethod
    def start(cls, *, many_rooms: bool = True, wait_on_close: bool = True) -> GradingSession:
        """A session on a zygote started now (closed with the session). ``many_rooms=False``: a
        session of a room or two (one submission); ``wait_on_close=False``: closing does not wait
        for the zygote's exit (a one-shot command that is about to end)."""
        return cls(Zygote.start(many_rooms=many_rooms), owned=True, wait_on_close=wait_on_close)

    @classmethod
    def on(cls, zygote: Zygote | None) -> GradingSession:
        """A session on the caller's ``zygote`` (left open: it is the caller's), or on one started now."""
        return cls.start() if zygote is None else cls(zygote, owned=False)

    @property
    def runner(self) -> ModuleType:
        """``grader.engine.runner``: it imports torch and the checks, so only once the zygote runs."""
        return _runner_module()

    def grade(self, course: Course, submissions: Sequence[Submission], exercises: Sequence[ExerciseSpec],
              **options: Any) -> GradeRun:
        """``runner.grade`` with this session's zygote (``options``: its keyword arguments)."""
        run: GradeRun = self.runner.grade(course, submissions, exercises, zygote=self.zygote, **options)
        return run

    def restart(self) -> None:
        """A new zygote in place of a lost one: a fresh interpreter (exec, not fork), so nothing this
        process has read since it started is in it. A lost zygote of the caller's is the caller's to close."""
        if self.owned:
            self.zygote.close()
        self.zygote, self.owned = Zygote.start(), True

    def close(self) -> None:
        """Close the zygote if the session started it (its rooms die with it)."""
        if self.owned:
            self.zygote.close(wait=self.wait_on_close)

    def __exit__(self, *exc: object) -> None:
        self.close()
