"""The reference's answers kept between runs of ``grade exerciseN`` on a course with its solutions.

On the instructor's course the reference solution and its known mistakes answer in this process:
for a training exercise, seconds (the reference trains; its optimizer's first step imports
torch._dynamo). Their replies depend only on the request (its encoded bytes are its key), the
solution's and mistakes' code, the seed, torch and the grader: one file per exercise under a key of
all of those, in the user's cache folder (``$XDG_CACHE_HOME/torchgrade``, else ``~/.cache``).

A file is a ``.safetensors`` whose metadata holds the recordings' JSON tree (no pickle), written by
this process only, atomically (a temporary file renamed into place). Rooms never see it: they read
only the interpreter's library and shared libraries (``readable.library_paths``), and a cache folder
inside one of those is not used. A file that fails to read, is not ours, or holds another key is
ignored: the answers are computed, and the file is written again.
"""
from __future__ import annotations

import hashlib
import json
import os
import site
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from functools import cache
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from grader.course.catalogue import ExerciseSpec
from grader.engine.protocol import Reply, Request
from grader.engine.recordings import REFERENCE
from grader.engine.subjects import LiveSolutions, Mistake, Subject
from grader.sandbox import wire
from grader.sandbox.untrusted.readable import is_within

FORMAT = "1"
_REPLY_FIELDS = frozenset(f.name for f in fields(Reply))
_ROOM_READABLE = ("/usr", "/lib", "/lib64", "/etc", "/dev")  # readable.py's shared libraries and devices, and more


def cache_folder() -> Path | None:
    """Where answers are kept, or None where a room could read it (under the interpreter's library)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(os.path.realpath(os.path.join(base, "torchgrade", "answers")))
    readable = {*_ROOM_READABLE, *(os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                                                    *site.getsitepackages()))}
    if not folder.is_absolute() or any(is_within(str(folder), path) for path in readable):
        return None
    return folder


@cache
def grader_fingerprint() -> str:
    """Every source file of the grader: a change to how a reply is made is a change of key."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def entry_key(exercise: ExerciseSpec, solution: str, seed: int) -> str:
    """What one exercise's answers depend on, as one SHA-256."""
    parts = {"format": FORMAT, "exercise": exercise.id, "solution": hashlib.sha256(solution.encode()).hexdigest(),
             "mistakes": [[m.id, m.find, m.replace] for m in exercise.mistakes], "seed": seed,
             "wire": wire.__name__, "torch": torch.__version__, "grader": grader_fingerprint()}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def read_entry(path: Path, key: str) -> dict[str, dict[str, Reply]]:
    """The answers in ``path`` when it is ours and holds ``key``; otherwise none."""
    try:
        status = path.stat()
        if status.st_uid != os.getuid() or status.st_mode & 0o022:
            return {}
        with safe_open(str(path), framework="pt") as opened:
            metadata = opened.metadata() or {}
            if metadata.get("format") != FORMAT or metadata.get("key") != key:
                return {}
            tensors = {name: opened.get_tensor(name) for name in opened.keys()}
        subjects = wire.join(json.loads(metadata["subjects"]), tensors)
        return {label: {request: _reply(plain) for request, plain in replies.items()}
                for label, replies in subjects.items()}
    except Exception:  # noqa: BLE001 - anything unreadable is computed again
        return {}


def _reply(plain: object) -> Reply:
    if type(plain) is not dict or not set(plain) <= _REPLY_FIELDS:
        raise ValueError("not a reply")
    return Reply(**plain)


def write_entry(path: Path, key: str, subjects: dict[str, dict[str, Reply]]) -> None:
    """Write ``subjects`` to ``path`` in one step (a temporary file renamed over it); a failure writes nothing."""
    tree, tensors = wire.split({label: {request: asdict(reply) for request, reply in sorted(replies.items())}
                                for label, replies in sorted(subjects.items())})
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-")
    os.close(handle)
    try:
        save_file({name: t.contiguous() for name, t in tensors.items()}, temporary,
                  metadata={"format": FORMAT, "key": key, "subjects": json.dumps(tree, sort_keys=True)})
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


@dataclass
class _CachedSubject:
    live: Subject
    replies: dict[str, Reply]
    on_new_answer: Callable[[], None]

    def run(self, request: Request) -> Reply:
        if request.key not in self.replies:
            self.replies[request.key] = self.live.run(request)
            self.on_new_answer()
        return self.replies[request.key]

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        return [self.run(request) for request in requests]


@dataclass
class CachedSolutions:
    """``LiveSolutions`` with its answers kept in ``folder`` between runs (``save`` writes the new ones)."""

    live: LiveSolutions
    folder: Path
    seed: int
    _entries: dict[str, tuple[str, dict[str, dict[str, Reply]]]] = field(default_factory=dict)
    _changed: set[str] = field(default_factory=set)  # exercises with answers not in their file

    def reference(self, exercise: ExerciseSpec) -> Subject:
        return self._subject(exercise, REFERENCE, self.live.reference(exercise))

    def mistakes(self, exercise: ExerciseSpec) -> tuple[Mistake, ...]:
        return tuple(Mistake(m.spec, self._subject(exercise, m.spec.id, m.subject))
                     for m in self.live.mistakes(exercise))

    def has_answers(self, exercise: ExerciseSpec) -> bool:
        """Whether an earlier run left this exercise's reference answers."""
        return bool(self._entry(exercise).get(REFERENCE))

    def save(self) -> None:
        """Write each exercise that gained answers; a cache that cannot be written is skipped."""
        for exercise_id, (key, subjects) in self._entries.items():
            if exercise_id in self._changed:
                try:
                    write_entry(self.folder / f"{exercise_id}.safetensors", key, subjects)
                except OSError:
                    pass

    def _subject(self, exercise: ExerciseSpec, label: str, live: Subject) -> Subject:
        return _CachedSubject(live, self._entry(exercise).setdefault(label, {}),
                              lambda: self._changed.add(exercise.id))

    def _entry(self, exercise: ExerciseSpec) -> dict[str, dict[str, Reply]]:
        if exercise.id not in self._entries:
            key = entry_key(exercise, self.live.source_of(exercise), self.seed)
            self._entries[exercise.id] = (key, read_entry(self.folder / f"{exercise.id}.safetensors", key))
        return self._entries[exercise.id][1]
