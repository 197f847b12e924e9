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
        # Other exercises' files are not helpers: each exercise is graded as if the others were absent.
        helpers = tuple(sorted(p for p in path.glob("*.py")
                               if p.is_file() and not p.is_symlink() and p.name not in exercise_filenames))
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



_LISTED_NAMES = 8  # how many of an entry's files a problem message names


def from_entry(path: Path, exercise_filenames: Sequence[str], *, name: str, unpack_to: Path) -> Submission:
    """A submission from one entry of a batch folder: a folder of ``exerciseN.py``
    files, or a ``.zip`` of one (unpacked safely into ``unpack_to``, which must
    not exist yet). Anything else, an unsafe zip, or an entry holding none of
    the exercise files is a submission with ``problem`` set in plain words:
    graded as zero, never skipped."""
    from grader import archives  # noqa: PLC0415 - zip handling is needed only here

    try:
        if path.is_dir():
            # A link could point at anything this user can read (a solution,
            # say); a student's folder has no business holding one.
            links = sorted(p.name for p in path.glob("*.py") if p.is_symlink())
            found = from_path(path, exercise_filenames, name=name)
            files = {f: p for f, p in found.files.items() if not p.is_symlink()}
            if not files and not links:
                return without_files(name, _holds_none("folder", sorted(p.name for p in path.iterdir()),
                                                       exercise_filenames))
            return Submission(name=name, files=files, helpers=found.helpers,
                              notes=tuple(f"{link} is a symbolic link; it was not graded" for link in links))
        if path.suffix.lower() == ".zip":
            try:
                written = archives.extract_sources(path, unpack_to, exercise_filenames)
            except archives.UnsafeArchive as error:
                return without_files(name, f"{path.name}: {error}")
            if not written:
                return without_files(name, _holds_none("zip", archives.member_names(path), exercise_filenames))
            return from_path(unpack_to, exercise_filenames, name=name)
        return without_files(name, _unrecognised(path, exercise_filenames))
    except OSError as error:
        return without_files(name, f"{path.name} could not be read ({error.strerror or error})")


def _expected(exercise_filenames: Sequence[str]) -> str:
    if len(exercise_filenames) <= 2:
        return " or ".join(exercise_filenames)
    return f"{exercise_filenames[0]} … {exercise_filenames[-1]}"


def _unrecognised(path: Path, exercise_filenames: Sequence[str]) -> str:
    kind = {".ipynb": "a notebook", ".py": "a single Python file"}.get(path.suffix.lower(), "not a folder or a .zip")
    return (f"{path.name} is {kind}: a submission must be a folder or a .zip holding "
            f"{_expected(exercise_filenames)}; it was not graded")


def _holds_none(where: str, names: Sequence[str], exercise_filenames: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED_NAMES]) + (", …" if len(names) > _LISTED_NAMES else "")
    return f"the {where} holds none of {_expected(exercise_filenames)}" + (f" (it holds: {shown})" if names else "")
