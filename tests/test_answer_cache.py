"""The reference's answers kept between runs (engine/answer_cache.py): used again only when they are
ours, whole and made under the same key; otherwise computed, and written again."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import torch

from grader.engine import answer_cache
from grader.engine.answer_cache import CachedSolutions
from grader.engine.protocol import Reply


@dataclass(frozen=True)
class _Request:
    key: str


@dataclass
class _Counting:
    runs: list[str] = field(default_factory=list)

    def run(self, request: _Request) -> Reply:
        self.runs.append(request.key)
        return Reply(value={"loss": torch.tensor([float(len(request.key)), 0.5]), "step": 3})

    def run_many(self, requests):
        return [self.run(r) for r in requests]


@dataclass
class _Live:
    """LiveSolutions as CachedSolutions uses it."""

    subject: _Counting = field(default_factory=_Counting)

    def reference(self, _exercise):
        return self.subject

    def mistakes(self, _exercise):
        return ()

    def source_of(self, _exercise):
        return "def solution(): ...\n"


def _answer(folder: Path, exercise, *, seed: int = 0) -> tuple[Reply, _Live]:
    live = _Live()
    cached = CachedSolutions(live, folder, seed)  # type: ignore[arg-type]
    reply = cached.reference(exercise).run(_Request("abc"))
    cached.save()
    return reply, live


def test_a_second_run_answers_from_the_kept_file(tmp_path, course):
    exercise = course.exercise("exercise9")
    first, live = _answer(tmp_path, exercise)
    assert live.subject.runs == ["abc"]
    again, live = _answer(tmp_path, exercise)
    assert live.subject.runs == []
    assert torch.equal(again.value["loss"], first.value["loss"]) and again.value["step"] == 3


@pytest.mark.parametrize("spoil", ["garbage", "another key", "writable by others"])
def test_an_entry_not_whole_ours_or_of_this_key_is_computed_again(tmp_path, course, spoil):
    exercise = course.exercise("exercise9")
    _answer(tmp_path, exercise, seed=1 if spoil == "another key" else 0)
    path = tmp_path / "exercise9.safetensors"
    if spoil == "garbage":
        path.write_bytes(path.read_bytes()[:40] + b"\xff" * 40)
    if spoil == "writable by others":
        os.chmod(path, 0o666)
    reply, live = _answer(tmp_path, exercise)
    assert live.subject.runs == ["abc"]
    assert reply.value["step"] == 3
    assert answer_cache.read_entry(path, answer_cache.entry_key(exercise, _Live().source_of(exercise), 0))


def test_no_cache_where_a_room_can_read(monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", os.path.join(sys.prefix, "cache"))
    assert answer_cache.cache_folder() is None
    monkeypatch.setenv("XDG_CACHE_HOME", "/usr/local/cache")
    assert answer_cache.cache_folder() is None
