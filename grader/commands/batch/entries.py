"""The entries of SUBMISSIONS, and which of them ``--resume`` may skip.

An entry is a folder, a ``.zip`` or a notebook, named after itself without
its extension unless that name would be another entry's (``grader.course.names``:
every entry gets a name of its own, a name with control characters is carried
escaped and refused); hidden entries (``.DS_Store``) and OUT itself are left out.
With ``--resume``, an entry whose ``OUT/submissions/<name>/results.json`` is
newer than the entry, at the same seed and exercises, is kept as it is.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.record.classbook import RESULTS_FILE, read_result, results_path, sort_key
from grader.record.tally import grader_failed
from grader.course.names import escaped, unique_names


@dataclass(frozen=True)
class Entry:
    """One submission in SUBMISSIONS: the name it carries, its path, why its
    name is refused (it is then not read), and notes (other entries that may
    be the same student)."""

    name: str
    path: Path
    refused: str | None = None
    notes: tuple[str, ...] = ()

    def job(self) -> dict[str, Any]:
        """The entry as a worker's job lists it (plain data)."""
        return {"name": self.name, "path": str(self.path.absolute()), "refused": self.refused,
                "notes": list(self.notes)}


def name_entries(paths: Sequence[Path]) -> list[Entry]:
    """Name each entry after itself without its extension (``alice.zip`` → ``alice``).

    Entries that would share a name (``alice/``, ``alice.zip``, ``alice.zip.ipynb``)
    keep their full names instead, so no two share one and none is dropped;
    they are flagged as maybe the same student (``grader.course.names``).
    """
    names = unique_names([(p.name, p.is_dir()) for p in paths])
    entries = [Entry(n.name, p, n.refused, n.notes) for n, p in zip(names, paths, strict=True)]
    return sorted(entries, key=lambda e: sort_key(e.name))


def list_entries(folder: Path, *, exclude: Path | None = None) -> tuple[list[Entry], list[str]]:
    """The entries of ``folder`` by name, and the hidden ones left out (``.DS_Store``,
    their names escaped: they are only ever printed).

    ``exclude`` (OUT, when it sits inside SUBMISSIONS) is never an entry.
    """
    paths, hidden = [], []
    skip = exclude.resolve() if exclude is not None else None
    for path in folder.iterdir():
        if path.name.startswith("."):
            hidden.append(escaped(path.name))
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


def is_up_to_date(entry: Entry, out: Path, *, seed: int, exercise_ids: Sequence[str], legacy: bool = False) -> bool:
    """Whether ``--resume`` may keep this entry's results: written after the
    entry last changed, with the same seed and exercises, and not a row the
    grader failed on. ``legacy``: an OUT written before ``OUT/submissions/``."""
    path = out / entry.name / RESULTS_FILE if legacy else results_path(out, entry.name)
    try:
        if path.stat().st_mtime < entry_mtime(entry.path):
            return False
    except OSError:
        return False
    result = read_result(path.parent)
    return (result is not None and result.seed == seed
            and [e.exercise_id for e in result.exercises] == list(exercise_ids)
            and not grader_failed(result))
