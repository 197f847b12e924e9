"""A batch's events, typed: what a worker says (one JSON line each) and what the controller reports.

A worker, local or on Dask, writes its events as JSON lines (``worker``); the
controller reads each with ``read_worker_line`` into one of the records below,
or a ``MalformedEvent`` naming what was wrong: reported (``BatchOutcome.worker_errors``),
never dropped silently. The progress display (``on_progress``) receives
``Planned``, ``Graded``, ``Failed`` and ``Retry`` records. Torch-free.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any, Union

from grader.status import Status


class MalformedEvent(ValueError):
    """A line a worker wrote that is not one of its events."""


@dataclass(frozen=True)
class Planned:
    """Once, before any grading: how many submissions will be graded, skipped, and at a time."""

    total: int
    skipped: int
    jobs: int


@dataclass(frozen=True)
class Reading:
    """A worker is reading this entry (to blame if it dies now)."""

    submission: str


@dataclass(frozen=True)
class Grading:
    """A worker read its whole share and is grading it."""


@dataclass(frozen=True)
class Graded:
    """A submission finished, with its whole result (plain data, for the class record)."""

    submission: str
    score: float
    max_score: float
    verdicts: tuple[str, ...]
    status: str  # grader.status.Status's value: the submission's, as its result says
    result: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Failed:
    """The grader failed on a submission (its grading process ended twice, or sent a malformed result)."""

    submission: str
    reason: str = ""


@dataclass(frozen=True)
class Retry:
    """A worker died or a task failed: these submissions go again."""

    submissions: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class WorkerError:
    """The batch cannot run at all (a broken suite): said once, by a worker."""

    message: str


WorkerEvent = Union[Reading, Grading, Graded, WorkerError]
ProgressEvent = Union[Planned, Graded, Failed, Retry]
_WORKER_EVENTS: dict[str, type] = {"reading": Reading, "grading": Grading, "graded": Graded, "error": WorkerError}
_MAX_SHOWN = 200  # of a malformed line, in the report


def read_worker_line(line: str) -> WorkerEvent:
    """One line of a worker's stdout as its event. Raises ``MalformedEvent``."""
    try:
        plain = json.loads(line)
    except ValueError:
        raise MalformedEvent(f"not JSON: {line.strip()[:_MAX_SHOWN]!r}") from None
    if not isinstance(plain, dict) or plain.get("event") not in _WORKER_EVENTS:
        raise MalformedEvent(f"not a worker's event: {line.strip()[:_MAX_SHOWN]!r}")
    kind = _WORKER_EVENTS[plain["event"]]
    names = {f.name for f in fields(kind)}
    missing = sorted(names - set(plain))
    if missing:
        raise MalformedEvent(f"a {plain['event']!r} event without {', '.join(missing)}")
    values = {name: _checked(plain["event"], name, plain[name]) for name in names}
    event: WorkerEvent = kind(**values)
    return event


def _checked(event: str, name: str, value: Any) -> Any:
    """A field's value of the type its record holds (a number for points, text for names)."""
    expected = {"submission": str, "message": str, "reason": str, "status": str, "result": dict}.get(name)
    if expected is not None and type(value) is not expected:
        raise MalformedEvent(f"a {event!r} event whose {name} is not {expected.__name__}")
    if name in ("score", "max_score"):
        if type(value) not in (int, float):
            raise MalformedEvent(f"a {event!r} event whose {name} is not a number")
        return float(value)
    if name == "verdicts":
        if type(value) is not list or not all(type(v) is str for v in value):
            raise MalformedEvent(f"a {event!r} event whose verdicts are not a list of text")
        return tuple(value)
    if name == "status" and value not in {s.value for s in Status}:
        raise MalformedEvent(f"a {event!r} event whose status is not a status")
    return value
