"""Recorded reference values: a reference that holds answers, not code.

``RecordingSolutions`` wraps a live source while the public tests run and
keeps every reply of the reference, and every known mistake's reply to the
same requests; ``save_recordings`` stores them per exercise as JSON beside a
``.safetensors`` file. ``RecordedSolutions`` reads them back and answers the
same requests, so the suites run unchanged in a student copy of the course
that ships no solution code.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from safetensors.torch import load_file, save_file

from grader.sandbox import wire
from grader.course.catalogue import ExerciseSpec
from grader.engine.protocol import Reply, Request
from grader.engine.subjects import Mistake, ReferenceSource, Subject

FORMAT = 1
REFERENCE = "reference"


class MissingRecording(LookupError):
    """A request whose answer was not recorded (another seed, or a hidden test)."""


@dataclass
class RecordedSubject:
    label: str
    replies: dict[str, Reply]

    def run(self, request: Request) -> Reply:
        try:
            return self.replies[request.key]
        except KeyError:
            raise MissingRecording(
                f"no recorded {self.label} value for {request.describe()}: this copy of the course "
                "records the public tests at the course's seed only") from None

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        return [self.run(request) for request in requests]


@dataclass
class RecordedSolutions:
    """A ``ReferenceSource`` reading recordings from ``folder``."""

    folder: Path
    _exercises: dict[str, dict[str, dict[str, Reply]]] = field(default_factory=dict)

    def reference(self, exercise: ExerciseSpec) -> Subject:
        return RecordedSubject(REFERENCE, self._load(exercise).get(REFERENCE, {}))

    def mistakes(self, exercise: ExerciseSpec) -> tuple[Mistake, ...]:
        recorded = self._load(exercise)
        return tuple(Mistake(m, RecordedSubject(f"known-mistake {m.id}", recorded[m.id]))
                     for m in exercise.mistakes if m.id in recorded)

    def _load(self, exercise: ExerciseSpec) -> dict[str, dict[str, Reply]]:
        if exercise.id not in self._exercises:
            self._exercises[exercise.id] = load_recordings(self.folder, exercise.id)
        return self._exercises[exercise.id]


@dataclass
class _RecordingSubject:
    inner: Subject
    on_reply: Callable[[Request, Reply], None]

    def run(self, request: Request) -> Reply:
        reply = self.inner.run(request)
        self.on_reply(request, reply)
        return reply

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        return [self.run(request) for request in requests]


@dataclass
class RecordingSolutions:
    """Wraps a live source; records each reference reply and, for the same
    request, every known mistake's reply (so hints work from recordings)."""

    inner: ReferenceSource
    recorded: dict[str, dict[str, dict[str, Reply]]] = field(default_factory=dict)

    def reference(self, exercise: ExerciseSpec) -> Subject:
        def record(request: Request, reply: Reply) -> None:
            subjects = self.recorded.setdefault(exercise.id, {})
            subjects.setdefault(REFERENCE, {})[request.key] = reply
            for mistake in self.inner.mistakes(exercise):
                subjects.setdefault(mistake.spec.id, {})[request.key] = mistake.subject.run(request)
        return _RecordingSubject(self.inner.reference(exercise), record)

    def mistakes(self, exercise: ExerciseSpec) -> tuple[Mistake, ...]:
        return self.inner.mistakes(exercise)


def save_recordings(folder: Path, recorded: dict[str, dict[str, dict[str, Reply]]]) -> list[Path]:
    """Write ``<exercise>.json`` and ``<exercise>.safetensors`` per exercise,
    byte-for-byte the same for the same recordings."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for exercise_id in sorted(recorded):
        subjects = {label: {key: asdict(reply) for key, reply in sorted(replies.items())}
                    for label, replies in sorted(recorded[exercise_id].items())}
        tree, tensors = wire.split(subjects)
        json_path, tensor_path = folder / f"{exercise_id}.json", folder / f"{exercise_id}.safetensors"
        json_path.write_text(json.dumps({"format": FORMAT, "subjects": tree}, sort_keys=True, indent=1) + "\n")
        save_file({k: t.contiguous() for k, t in tensors.items()}, str(tensor_path))
        written += [json_path, tensor_path]
    return written


def load_recordings(folder: Path, exercise_id: str) -> dict[str, dict[str, Reply]]:
    json_path, tensor_path = folder / f"{exercise_id}.json", folder / f"{exercise_id}.safetensors"
    if not json_path.is_file():
        return {}
    data = json.loads(json_path.read_text())
    if data.get("format") != FORMAT:
        raise wire.WireError(f"{json_path}: unknown recording format {data.get('format')!r}")
    tensors = load_file(str(tensor_path)) if tensor_path.is_file() else {}
    subjects = wire.join(data["subjects"], tensors)
    return {label: {key: Reply(**plain) for key, plain in replies.items()} for label, replies in subjects.items()}
