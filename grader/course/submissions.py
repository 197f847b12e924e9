"""What a submission is: a name and the Python sources a sandbox will hold.

Every kind of submission (a single file, a folder, a zip or a notebook) is
turned into this one shape before grading; the runner and the suites never
look at where it came from. ``read_submission`` is the one boundary where a
submission is read, for ``grade exerciseN`` and for every batch entry alike:
whatever goes wrong while reading (a notebook nested too deeply, a zip that
lies, a name that is not UTF-8, a file that vanished) becomes that
submission's own refusal, in plain words, never an exception. A notebook's code becomes a module source held
in memory (``sources``), graded as the ``exerciseN.py`` it answers
(grader/notebooks.py says which).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grader.verdicts import Verdict
from grader.errors import UserError
from grader.course import notebooks
from grader.course.names import carried_name

MAX_SOURCE_FILES = 50
MAX_SOURCE_BYTES = 1 << 20


class SubmissionError(UserError):
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
    # Module sources made in memory, by canonical name: a notebook's code
    # (``files`` then maps the name to the .ipynb it came from).
    sources: Mapping[str, bytes] = field(default_factory=dict)
    # Why a submitted file cannot become a module (an unreadable notebook), by
    # canonical name: that exercise fails with an import error saying so.
    file_problems: Mapping[str, str] = field(default_factory=dict)

    def helper_sources(self) -> dict[str, bytes]:
        """The helper modules a sandbox's scratch folder holds, by file name."""
        return {helper.name: helper.read_bytes() for helper in self.helpers[:MAX_SOURCE_FILES]
                if helper.name not in self.files and helper.stat().st_size <= MAX_SOURCE_BYTES}

    def module_source(self, filename: str) -> bytes | None:
        """The module a sandbox imports for ``filename``, or None if not
        submitted. Raises ``SandboxFailure`` (an import error) if the submitted
        file cannot become a module."""
        path = self.files.get(filename)
        if path is None:
            return None
        if filename in self.file_problems:
            from grader.sandbox.client import SandboxFailure  # noqa: PLC0415

            raise SandboxFailure(Verdict.IMPORT_ERROR, self.file_problems[filename])
        module = self.sources[filename] if filename in self.sources else path.read_bytes()
        return module[:MAX_SOURCE_BYTES * 4]


def read_submission(path: Path, exercise_filenames: Sequence[str], *, name: str | None = None,
                    unpack_to: Path | None = None, refused: str | None = None,
                    notes: Sequence[str] = ()) -> Submission:
    """The submission at ``path``, read one entry at a time; never raises but
    for a path the user gave that cannot be a submission (``SubmissionError``,
    for ``grade exerciseN``: no file there, a lone ``.py`` with no exercise).

    ``unpack_to`` given: ``path`` is an entry of a batch (``from_entry``), and
    every error, that one included, is the entry's refusal. Else ``path`` is
    what ``grade --submission`` names (``from_path``). ``refused``: why the
    entry is not read at all (its name); ``notes`` are added to the result's.
    """
    label = name if name is not None else carried_name(_default_name(path))
    if refused:
        return without_files(label, refused, notes=notes)
    try:
        if unpack_to is not None:
            submission = from_entry(path, exercise_filenames, name=label, unpack_to=unpack_to)
        else:
            submission = from_path(path, exercise_filenames, name=label)
    except SubmissionError:
        if unpack_to is None:
            raise
        submission = without_files(label, f"{carried_name(path.name)} could not be read; it was not graded")
    except Exception as error:  # noqa: BLE001 - the boundary: anything a submission makes a reader do is its own
        submission = without_files(label, unreadable(carried_name(path.name), error))
    return replace(submission, notes=(*notes, *submission.notes)) if notes else submission


def _default_name(path: Path) -> str:
    return path.resolve().name if path.is_dir() else path.stem


def unreadable(what: str, error: Exception) -> str:
    """Why ``what`` could not be read, in plain words: the kind of failure, never
    its message (which may quote the file) nor a traceback."""
    import zipfile  # noqa: PLC0415 - only to name an error

    if isinstance(error, RecursionError):
        why = "it is nested too deeply to read"
    elif isinstance(error, MemoryError):
        why = "it is too large to read"
    elif isinstance(error, UnicodeError):
        why = "it holds a name or text that is not valid UTF-8"
    elif isinstance(error, OSError):
        why = f"it could not be read ({error.strerror or type(error).__name__})"
    elif isinstance(error, (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError)):
        why = "it is not a readable zip"
    else:
        why = f"the grader could not read it ({type(error).__name__})"
    return f"{what}: {why}; it was not graded"


def from_path(path: Path, exercise_filenames: Sequence[str], *, name: str | None = None) -> Submission:
    """A submission from a file (graded as the one selected exercise), a notebook
    (``exercise3.ipynb`` answers exercise 3, any other name every exercise), or
    a folder holding ``exerciseN.py`` files or notebooks."""
    if path.is_dir():
        return _from_folder(path, exercise_filenames, name=name or path.resolve().name, follow_links=True)
    if path.is_file():
        if notebooks.is_notebook(path):
            answers = (list(exercise_filenames) if len(exercise_filenames) == 1
                       else notebooks.exercises_answered(path.name, exercise_filenames))
            if not answers:
                return without_files(name or path.stem, f"{path.name} is named after an exercise other than "
                                                         f"{_expected(exercise_filenames)}; it was not graded")
            return _with_notebooks(Submission(name=name or path.stem, files={}), {f: path for f in answers})
        if len(exercise_filenames) != 1:
            raise SubmissionError(f"{path} is one file: name the exercise it answers, "
                                  f"e.g. grade exercise3 --submission {path}")
        return Submission(name=name or path.stem, files={exercise_filenames[0]: path})
    raise SubmissionError(f"{path} does not exist")


def _from_folder(path: Path, exercise_filenames: Sequence[str], *, name: str, follow_links: bool) -> Submission:
    def usable(p: Path) -> bool:
        return p.is_file() and (follow_links or not p.is_symlink())

    files = {f: path / f for f in exercise_filenames if usable(path / f)}
    # Other exercises' files are not helpers: each exercise is graded as if the others were absent.
    helpers = tuple(sorted(p for p in path.glob("*.py")
                           if p.is_file() and not p.is_symlink() and p.name not in exercise_filenames))
    found = Submission(name=name, files=files, helpers=helpers)
    notebook_paths = sorted(p for p in path.glob("*.ipynb") if notebooks.is_notebook(p) and usable(p))
    return _with_notebooks(found, _answered_by_notebooks(notebook_paths, exercise_filenames, set(files)))


def _answered_by_notebooks(paths: Sequence[Path], exercise_filenames: Sequence[str],
                           taken: set[str]) -> dict[str, Path | tuple[Path, str]]:
    """Which notebook answers each exercise that has no ``.py`` file: the one
    named after it, else the one notebook not named after an exercise. Several
    of those are ambiguous: the exercises they would answer get (the first of
    them, the reason)."""
    answered: dict[str, Path | tuple[Path, str]] = {}
    general = []
    for path in paths:
        named = notebooks.named_exercise(path.name, exercise_filenames)
        if named is not None:
            if named not in taken:
                answered[named] = path
        elif not notebooks.names_an_exercise(path.name, exercise_filenames):
            general.append(path)
    for filename in exercise_filenames:
        if filename in taken or filename in answered or not general:
            continue
        answered[filename] = general[0] if len(general) == 1 else (general[0], (
            f"the folder holds {len(general)} notebooks not named after an exercise "
            f"({', '.join(p.name for p in general[:_LISTED_NAMES])}), so none of them was graded: "
            "submit one, or name each after its exercise (exercise3.ipynb)"))
    return answered


def _with_notebooks(submission: Submission, answered: Mapping[str, Path | tuple[Path, str]]) -> Submission:
    """``submission`` with the exercises ``answered`` by notebooks (a path, or a
    path and why it cannot answer): each notebook is read once and its notes
    kept; an unreadable one is a problem of its exercises, or of the whole
    submission when nothing else was submitted."""
    if not answered:
        return submission
    files, sources, file_problems = dict(submission.files), dict(submission.sources), dict(submission.file_problems)
    notes = list(submission.notes)
    modules: dict[Path, notebooks.NotebookModule | str] = {}
    for filename, answer in answered.items():
        module: notebooks.NotebookModule | str | None
        path, module = answer if isinstance(answer, tuple) else (answer, None)
        if module is None:
            if path not in modules:
                try:
                    read = notebooks.read_module(path)
                    notes += read.notes
                    modules[path] = read
                except notebooks.NotebookError as error:
                    modules[path] = str(error)
                except Exception as error:  # noqa: BLE001 - one notebook's problem, not its neighbours'
                    modules[path] = unreadable(carried_name(path.name), error)
            module = modules[path]
        files[filename] = path
        if isinstance(module, str):
            file_problems[filename] = module
        else:
            sources[filename] = module.source.encode("utf-8")
    if set(file_problems) >= set(files):  # nothing gradable: say why once, for the whole submission
        problems = list(dict.fromkeys(file_problems.values()))
        return replace(submission, files={}, sources={}, file_problems={}, notes=tuple(notes),
                       problem="; ".join([p for p in [submission.problem, *problems] if p]))
    return replace(submission, files=files, sources=sources, file_problems=file_problems, notes=tuple(notes))


def without_files(name: str, problem: str, *, notes: Sequence[str] = ()) -> Submission:
    return Submission(name=name, files={}, problem=problem, notes=tuple(notes))



_LISTED_NAMES = 8  # how many of an entry's files a problem message names


def from_entry(path: Path, exercise_filenames: Sequence[str], *, name: str, unpack_to: Path) -> Submission:
    """A submission from one entry of a batch folder: a folder of ``exerciseN.py``
    files, or a ``.zip`` of one (unpacked safely into ``unpack_to``, which must
    not exist yet). Anything else, an unsafe zip, or an entry holding none of
    the exercise files is a submission with ``problem`` set in plain words:
    graded as zero, never skipped."""
    from grader.course import archives  # noqa: PLC0415 - zip handling is needed only here

    try:
        if path.is_dir():
            # A link could point at anything this user can read (a solution,
            # say); a student's folder has no business holding one.
            links = sorted(p.name for pattern in ("*.py", "*.ipynb") for p in path.glob(pattern) if p.is_symlink())
            found = _from_folder(path, exercise_filenames, name=name, follow_links=False)
            if not found.files and not links and not found.problem:
                return without_files(name, _holds_none("folder", sorted(p.name for p in path.iterdir()),
                                                       exercise_filenames))
            return replace(found, notes=(*found.notes,
                                         *(f"{link} is a symbolic link; it was not graded" for link in links)))
        if notebooks.is_notebook(path) and path.is_file() and not path.is_symlink():
            return from_path(path, exercise_filenames, name=name)
        if path.suffix.lower() == ".zip" and path.is_file():  # a FIFO named x.zip would block its reader for ever
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
    kind = {".py": "a single Python file"}.get(path.suffix.lower(), "not a folder, a .zip or a notebook")
    if path.is_symlink():
        kind = "a symbolic link"
    return (f"{path.name} is {kind}: a submission must be a notebook, or a folder or a .zip holding "
            f"{_expected(exercise_filenames)}; it was not graded")


def _holds_none(where: str, names: Sequence[str], exercise_filenames: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED_NAMES]) + (", …" if len(names) > _LISTED_NAMES else "")
    return f"the {where} holds none of {_expected(exercise_filenames)}" + (f" (it holds: {shown})" if names else "")
