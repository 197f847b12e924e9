"""What a submission is: a name and the Python sources a sandbox will hold.

Every kind of submission (a single file, a folder, later a zip or a
notebook) is turned into this one shape before grading; the runner and the
suites never look at where it came from.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MAX_SOURCE_FILES = 50
MAX_SOURCE_BYTES = 1 << 20


class SubmissionError(Exception):
    """A submission path the user gave cannot be used (a user-facing error)."""


@dataclass(frozen=True)
class Submission:
    name: str
    # The file a student submitted for each exercise, by its canonical name
    # ("exercise3.py"); a missing key means "not submitted".
    files: Mapping[str, Path]
    # Helper modules that sit beside the exercise files (importable in the sandbox).
    helpers: tuple[Path, ...] = ()
    problem: str | None = None  # why nothing of it can be graded (e.g. an unreadable zip)
    notes: tuple[str, ...] = field(default=())

    def sources_for(self, filename: str) -> dict[str, bytes] | None:
        """The scratch folder's contents for grading ``filename``, or None if not submitted."""
        path = self.files.get(filename)
        if path is None:
            return None
        sources = {}
        for helper in self.helpers[:MAX_SOURCE_FILES]:
            if helper.name != filename and helper.stat().st_size <= MAX_SOURCE_BYTES:
                sources[helper.name] = helper.read_bytes()
        sources[filename] = path.read_bytes()[:MAX_SOURCE_BYTES * 4]
        return sources


def from_path(path: Path, exercise_filenames: Sequence[str], *, name: str | None = None) -> Submission:
    """A submission from a file (graded as the one selected exercise) or a folder
    holding ``exerciseN.py`` files."""
    if path.is_dir():
        files = {f: path / f for f in exercise_filenames if (path / f).is_file()}
        helpers = tuple(sorted(p for p in path.glob("*.py") if p.is_file() and not p.is_symlink()))
        return Submission(name=name or path.resolve().name, files=files, helpers=helpers)
    if path.is_file():
        if len(exercise_filenames) != 1:
            raise SubmissionError(f"{path} is one file: name the exercise it answers, e.g. grade exercise3 --submission {path}")
        return Submission(name=name or path.stem, files={exercise_filenames[0]: path})
    raise SubmissionError(f"{path} does not exist")


def without_files(name: str, problem: str) -> Submission:
    return Submission(name=name, files={}, problem=problem)


def as_mapping(files: Mapping[str, Path]) -> dict[str, Path]:
    return dict(files)
