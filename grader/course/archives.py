"""Unpacking a submitted ``.zip`` without trusting it.

A zip is a student's file, so everything it declares may be a lie: member
names that climb out of the target folder (``../evil.py``, ``/etc/x``),
symbolic links, sizes that are a thousand times smaller than what the data
inflates to. ``plan_extraction`` looks only at the declarations (a pure
function of the member list, unit-tested); ``extract_sources`` then reads the
few members the plan chose, counting the bytes it actually inflates, and
writes them flat into a fresh folder. Only importable ``*.py`` files and
notebooks (``*.ipynb``) at the top of the zip or one folder down are taken;
everything else is left packed.
Every refusal is an ``UnsafeArchive`` whose message is in plain words, so a
bad zip becomes a row with a problem, never a crash of the batch. Before
``zipfile`` parses the zip's directory (it builds an object per member), the
directory's declared size is read from the zip's last record and bounded
(``directory_problem``): a small zip cannot make the grader parse a million members.
"""
from __future__ import annotations

import re
import stat
import struct
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from grader.course.notebooks import MAX_NOTEBOOK_BYTES, is_notebook

_READ_CHUNK = 64 * 1024
# A module a sandbox can import: the exercise files and any helpers beside them.
_IMPORTABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\.py")
# What tools add that nobody submitted on purpose (macOS resource forks, Jupyter's autosaves).
JUNK_FOLDERS = {"__MACOSX", ".ipynb_checkpoints"}


@dataclass(frozen=True)
class ZipLimits:
    """What one submitted zip may hold; sizes are uncompressed bytes."""

    archive_mb: int = 50  # the .zip file itself (bounds parsing its directory)
    members: int = 200  # entries of any kind, folders included
    file_bytes: int = 1 << 20  # one extracted .py file
    notebook_bytes: int = MAX_NOTEBOOK_BYTES  # one extracted .ipynb (outputs make notebooks large)
    total_bytes: int = 20 << 20  # every extracted file together
    name_chars: int = 255  # one member's name (a file name's limit)
    directory_bytes: int = 1 << 20  # the zip's central directory: ~ members x (46 + name + extra) bytes


class UnsafeArchive(Exception):
    """The zip cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class Member:
    """One file the plan will extract: where it is in the zip, what it becomes."""

    name: str  # the member's name inside the zip, as zipfile reports it
    filename: str  # the flat file name it is written to, e.g. "exercise3.py"
    declared_bytes: int


def _parts(name: str) -> list[str]:
    # Zip names use "/", but zips made on Windows sometimes use "\": treat
    # both as separators, so "..\\evil.py" is caught like "../evil.py".
    return [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]


def unsafe_name_reason(name: str, limits: ZipLimits = ZipLimits()) -> str | None:
    """Why a member name could write outside the target folder (or is longer
    than a file name may be), or None."""
    if len(name) > limits.name_chars:
        return f"a file name longer than {limits.name_chars} characters"
    if "\x00" in name:
        return "a file name with a NUL character in it"
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name):
        return f"an absolute path ({name})"
    if ".." in _parts(name):
        return f"a path that leaves its folder ({name})"
    return None


def _file_type(info: zipfile.ZipInfo) -> int:
    # external_attr's high 16 bits are the Unix mode when the zip was made on
    # Unix; 0 (no type) from other systems means a plain file or folder.
    return stat.S_IFMT(info.external_attr >> 16)


def plan_extraction(infos: Sequence[zipfile.ZipInfo], exercise_filenames: Sequence[str],
                    limits: ZipLimits = ZipLimits()) -> list[Member]:
    """Which members to extract, judged from the zip's declarations alone.

    Raises ``UnsafeArchive`` if any member is unsafe (the whole zip is refused:
    a zip that tries one trick is not trusted with the rest), if it holds too
    many members, if a chosen file declares too many bytes, or if the
    exercise files sit in more than one folder.
    """
    if len(infos) > limits.members:
        raise UnsafeArchive(f"the zip holds {len(infos)} entries, more than the {limits.members} allowed; "
                            "zip only your exercise files")
    for info in infos:
        _refuse_unsafe(info, limits)
    candidates = _candidates(infos)
    folder = _exercise_folder(candidates, exercise_filenames)
    return [] if folder is None else _members(candidates[folder], limits)


_Candidates = dict[str, list[tuple[zipfile.ZipInfo, str]]]  # folder ("" = top) -> its .py files (member, file name)


def _refuse_unsafe(info: zipfile.ZipInfo, limits: ZipLimits) -> None:
    reason = unsafe_name_reason(info.filename, limits)
    if reason:
        raise UnsafeArchive(f"the zip holds {reason}; it was not unpacked")
    kind = _file_type(info)
    if kind == stat.S_IFLNK:
        raise UnsafeArchive(f"the zip holds a symbolic link ({info.filename}); it was not unpacked")
    if not info.is_dir() and kind not in (0, stat.S_IFREG):
        raise UnsafeArchive(f"the zip holds {info.filename}, which is not a regular file; it was not unpacked")


def _candidates(infos: Sequence[zipfile.ZipInfo]) -> _Candidates:
    """The files that could be exercises, at the top or one folder down, by folder."""
    candidates: _Candidates = {}
    for info in infos:
        parts = _parts(info.filename)
        if info.is_dir() or not parts or len(parts) > 2 or parts[0] in JUNK_FOLDERS or not _wanted(parts[-1]):
            continue
        candidates.setdefault(parts[0] if len(parts) == 2 else "", []).append((info, parts[-1]))
    return candidates


def _exercise_folder(candidates: _Candidates, exercise_filenames: Sequence[str]) -> str | None:
    """The one folder holding exercise files (None: none does); refuses a zip with several."""
    with_exercises = [folder for folder, files in candidates.items()
                      if any(filename in exercise_filenames or is_notebook(filename) for _, filename in files)]
    if len(with_exercises) > 1:
        shown = ", ".join("the top level" if f == "" else f"{f}/" for f in sorted(with_exercises))
        raise UnsafeArchive(f"the zip holds exercise files in more than one folder ({shown}); "
                            "put them together in one")
    return with_exercises[0] if with_exercises else None


def _members(files: list[tuple[zipfile.ZipInfo, str]], limits: ZipLimits) -> list[Member]:
    """The files of the chosen folder, each once, within the byte limits they declare."""
    chosen: list[Member] = []
    seen: set[str] = set()
    total = 0
    for info, filename in files:
        if filename in seen:
            raise UnsafeArchive(f"the zip holds {filename} more than once")
        seen.add(filename)
        if info.file_size > _file_limit(filename, limits):
            raise UnsafeArchive(f"{filename} in the zip is {info.file_size:,} bytes unpacked, "
                                f"more than the {_file_limit(filename, limits):,} allowed")
        total += info.file_size
        if total > limits.total_bytes:
            raise UnsafeArchive(f"the zip's Python files add up to more than {limits.total_bytes:,} bytes unpacked")
        chosen.append(Member(name=info.filename, filename=filename, declared_bytes=info.file_size))
    return chosen


def _wanted(filename: str) -> bool:
    return bool(_IMPORTABLE.fullmatch(filename)) or is_notebook(filename)


def _file_limit(filename: str, limits: ZipLimits) -> int:
    return limits.notebook_bytes if is_notebook(filename) else limits.file_bytes


def read_capped(archive: zipfile.ZipFile, member: Member, file_bytes: int, budget_bytes: int) -> bytes:
    """A member's bytes, counted while inflating: a zip may declare 1 KB and
    inflate to gigabytes, so the declared size alone proves nothing."""
    cap = min(file_bytes, budget_bytes)
    chunks, size = [], 0
    with archive.open(member.name) as stream:
        while chunk := stream.read(_READ_CHUNK):
            size += len(chunk)
            if size > cap:
                raise UnsafeArchive(f"{member.filename} in the zip unpacks to more bytes than it declares "
                                    f"(over {cap:,}); it was not unpacked")
            chunks.append(chunk)
    return b"".join(chunks)


def extract_sources(zip_path: Path, target: Path, exercise_filenames: Sequence[str],
                    limits: ZipLimits = ZipLimits()) -> list[Path]:
    """Extract the chosen ``*.py`` and ``*.ipynb`` files of ``zip_path`` flat into ``target``
    (created, must not exist) and return their paths. Raises ``UnsafeArchive``."""
    try:
        size = zip_path.stat().st_size
        if size > limits.archive_mb << 20:
            raise UnsafeArchive(f"the zip is {size / (1 << 20):.0f} MB, more than the {limits.archive_mb} MB allowed")
        problem = directory_problem(zip_path, limits)
        if problem:
            raise UnsafeArchive(problem)
        with zipfile.ZipFile(zip_path) as archive:
            plan = plan_extraction(archive.infolist(), exercise_filenames, limits)
            target.mkdir(parents=True)
            written, budget = [], limits.total_bytes
            for member in plan:
                data = read_capped(archive, member, _file_limit(member.filename, limits), budget)
                budget -= len(data)
                path = target / member.filename  # a validated bare file name: stays in target
                path.write_bytes(data)
                written.append(path)
            return written
    except UnsafeArchive:
        raise
    except RuntimeError as error:  # zipfile's word for "encrypted, password required"
        raise UnsafeArchive(f"the zip could not be read: {error}") from None
    except NotImplementedError as error:  # an unsupported compression method
        raise UnsafeArchive(f"the zip uses a compression this grader cannot read ({error})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError) as error:
        raise UnsafeArchive(f"the file is not a readable zip ({error})") from None


_END_RECORD = struct.Struct("<4s4H2LH")  # the end of central directory record (PKWARE APPNOTE 4.3.16)
_END_SIGNATURE = b"PK\x05\x06"
_MAX_COMMENT = 0xFFFF


def directory_problem(zip_path: Path, limits: ZipLimits = ZipLimits()) -> str | None:
    """Why the zip's central directory is more than the grader parses, judged
    from its end record alone (the last ``22 + 65,535`` bytes at most), or None.
    A zip without a readable end record is left for ``zipfile`` to refuse."""
    with zip_path.open("rb") as file:
        size = file.seek(0, 2)
        file.seek(max(0, size - _END_RECORD.size - _MAX_COMMENT))
        tail = file.read()
    at = tail.rfind(_END_SIGNATURE)
    if at < 0 or len(tail) - at < _END_RECORD.size:
        return None
    fields = _END_RECORD.unpack_from(tail, at)
    entries, directory_bytes = fields[4], fields[5]
    if entries == 0xFFFF or directory_bytes == 0xFFFFFFFF:  # a ZIP64 directory: never needed by a submission
        return "the zip is a ZIP64 archive (made for huge archives): zip only your exercise files"
    if entries > limits.members:
        return f"the zip holds {entries} entries, more than the {limits.members} allowed; zip only your exercise files"
    if directory_bytes > limits.directory_bytes:
        return (f"the zip's directory is {directory_bytes:,} bytes, more than the {limits.directory_bytes:,} allowed; "
                "zip only your exercise files")
    return None


def member_names(zip_path: Path, limit: int = 50) -> list[str]:
    """The first names a (readable) zip lists, for a message saying what it holds."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            return [info.filename for info in archive.infolist()[:limit] if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return []
