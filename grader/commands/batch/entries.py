"""The entries of SUBMISSIONS, and which of them ``--resume`` may skip.

An entry is a folder, a ``.zip`` or a notebook, named after itself without
its extension; hidden entries (``.DS_Store``) and OUT itself are left out.
With ``--resume``, an entry whose ``OUT/<name>/results.json`` is newer than
the entry, at the same seed and exercises, is kept as it is.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.commands.batch.classbook import RESULTS_FILE, read_result, sort_key
from grader.commands.batch.tally import grader_failed


@dataclass(frozen=True)
class Entry:
    """One submission in SUBMISSIONS: its name (the entry without extension) and path."""

    name: str
    path: Path


def name_entries(paths: Sequence[Path]) -> list[Entry]:
    """Name each entry after itself without its extension (``alice.zip`` → ``alice``).

    Two entries that would share a name (``alice/`` and ``alice.zip``) keep
    their full names instead, so neither's results overwrite the other's.
    """
    stems = Counter(_stem(p) for p in paths)
    entries = [Entry(_stem(p) if stems[_stem(p)] == 1 else p.name, p) for p in paths]
    return sorted(entries, key=lambda e: sort_key(e.name))


def _stem(path: Path) -> str:
    return path.name if path.is_dir() else path.stem


def list_entries(folder: Path, *, exclude: Path | None = None) -> tuple[list[Entry], list[str]]:
    """The entries of ``folder`` by name, and the hidden ones left out (``.DS_Store``).

    ``exclude`` (OUT, when it sits inside SUBMISSIONS) is never an entry.
    """
    paths, hidden = [], []
    skip = exclude.resolve() if exclude is not None else None
    for path in folder.iterdir():
        if path.name.startswith("."):
            hidden.append(path.name)
        elif skip is None or path.resolve() != skip:
            paths.append(path)
    return name_entries(paths), sorted(hidden)


def entry_mtime(path: Path) -> float:
    """When an entry last changed: a folder's own mtime misses edits of the
    files inside, so take the newest of the folder and its top-level files."""
    newest = path.stat().st_mtime
    if path.is_dir():
        for child in path.iterdir():
            try:
                newest = max(newest, child.lstat().st_mtime)
            except OSError:
                pass
    return newest


def is_up_to_date(entry: Entry, out: Path, *, seed: int, exercise_ids: Sequence[str]) -> bool:
    """Whether ``--resume`` may keep this entry's results: written after the
    entry last changed, with the same seed and exercises, and not a row the
    grader failed on."""
    path = out / entry.name / RESULTS_FILE
    try:
        if path.stat().st_mtime < entry_mtime(entry.path):
            return False
    except OSError:
        return False
    result = read_result(path.parent)
    return (result is not None and result.seed == seed
            and [e.exercise_id for e in result.exercises] == list(exercise_ids)
            and not grader_failed(result))
