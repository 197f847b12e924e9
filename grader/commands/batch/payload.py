"""What travels to a cluster worker as bytes: the course once, each submission entry once.

A Dask worker shares no file system with the client. The client packs what
the grader reads into one bytes payload; the worker unpacks it into a folder
of its own and grades from there with the same functions a local batch uses
(``load_course``, ``from_entry``), so the answers are the same.

A payload is a tar archive (``tarfile``, POSIX pax format: one member per
file, folder, link or FIFO; a file's real size in a pax header when it is
shipped short). It is never extracted by ``tarfile``: each member is read
and written here, by kind, through the same checks (plain names, no absolute
path, no ``..``, no hard link, links only to nowhere, a bounded number of
members), so a payload carries course files into a worker's folder and
nowhere else. Only what the grader can read is shipped, and no more of it than
the grader would read: a ``.py`` up to what a sandbox is given, a notebook up
to its cap plus one byte (so "too large" is still said), a zip entry whole
unless it is over the zip cap; everything else goes by name and size alone.
A file shipped short is extended to its real size with a hole, so every size
check on the worker sees what it would have seen on the client. Links are
never read through inside a folder: they arrive as links to nowhere, which is
all ``from_entry`` looks at. Torch-free: the client imports it.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TypedDict

from grader.course.archives import ZipLimits
from grader.course.catalogue import COURSE_FILE, Course, ExerciseSpec
from grader.course.notebooks import MAX_NOTEBOOK_BYTES, is_notebook
from grader.course.submissions import MAX_SOURCE_BYTES

MAX_ENTRY_BYTES = 64 << 20  # one submission's payload; files past it go by size alone
MAX_MEMBERS = 100_000  # files, folders and links in one payload, at most
_LINK_TARGET = "/nonexistent/torchgrade-link"  # what a shipped link points at: nothing
_REAL_SIZE = "TORCHGRADE.size"  # pax header: a file's size on the client, when shipped short
_ENTRY = "entry"  # an entry's payload: the entry itself, then entry/<child>
_KINDS = {"file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "link": tarfile.SYMTYPE, "other": tarfile.FIFOTYPE}


class PayloadError(Exception):
    """A payload that is not what a client packs (a bug, or a mismatched grader)."""


def _cap(path: Path, *, entry: bool) -> int:
    """How many bytes of a file the grader can read, so how many are shipped."""
    name = path.name.lower()
    if name.endswith(".py"):
        return MAX_SOURCE_BYTES * 4  # Submission.module_source's cut
    if is_notebook(name):
        return MAX_NOTEBOOK_BYTES + 1  # notebooks.read_module reads one byte past its cap
    if entry and name.endswith(".zip"):
        return ZipLimits().archive_mb << 20  # a larger zip is refused by its size alone
    return 0


class _Item(TypedDict):
    """A member of a payload: its path inside it, its kind (of ``_KINDS``), the real size of a file."""

    path: str
    kind: str
    size: int


def _read_prefix(path: Path, limit: int) -> bytes:
    if limit <= 0:
        return b""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


def _pack(items: Iterable[tuple[_Item, bytes]]) -> bytes:
    """``items`` (a path inside the payload, a kind of ``_KINDS``, the real size; the bytes shipped) as a tar."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for item, data in items:
            member = tarfile.TarInfo(item["path"])
            member.type = _KINDS[item["kind"]]
            member.mode = 0o700 if item["kind"] == "dir" else 0o600
            member.mtime = 0  # the same bytes for the same files: no clock in a payload
            if item["kind"] == "link":
                member.linkname = _LINK_TARGET
            if item["kind"] == "file":
                member.size = len(data)
                if item["size"] != len(data):
                    member.pax_headers = {_REAL_SIZE: str(item["size"])}
            archive.addfile(member, io.BytesIO(data) if item["kind"] == "file" else None)
        end = archive.offset + 2 * tarfile.BLOCKSIZE  # the members and the end-of-archive blocks
    # Without the padding to a whole 10 KB record, which a tape wants and a reader does not: a small
    # entry's payload stays small (chunks are filled by their payloads' bytes).
    return buffer.getvalue()[:end]


def _items(data: bytes) -> list[tuple[_Item, bytes]]:
    """The members of a payload, each checked (``_member``). Raises PayloadError."""
    items: list[tuple[_Item, bytes]] = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for number, member in enumerate(archive):
                if number >= MAX_MEMBERS:
                    raise PayloadError(f"a payload of more than {MAX_MEMBERS:,} members")
                item = _member(member)
                content = b""
                if item["kind"] == "file":
                    handle = archive.extractfile(member)
                    content = handle.read(member.size) if handle is not None else b""
                items.append((item, content))
    except (tarfile.TarError, EOFError, OSError) as error:
        raise PayloadError(f"unreadable payload: {error}") from None
    return items


def _member(member: tarfile.TarInfo) -> _Item:
    """A member as an item, or PayloadError: a relative path of plain names, one of the kinds a client packs."""
    parts = member.name.split("/")
    if member.name.startswith("/") or any(not part or part in (".", "..") or "\0" in part for part in parts):
        raise PayloadError(f"not a relative path of plain names: {member.name!r}")
    kind = next((name for name, type_ in _KINDS.items() if member.type == type_), None)
    if kind is None or (member.type == tarfile.REGTYPE) != member.isreg():
        raise PayloadError(f"{member.name!r} is not a file, a folder, a link or a FIFO (a hard link, a device)")
    if kind == "link" and member.linkname != _LINK_TARGET:
        raise PayloadError(f"{member.name!r} is a link to somewhere ({member.linkname!r})")
    size = member.size
    if kind == "file" and _REAL_SIZE in member.pax_headers:
        real = member.pax_headers[_REAL_SIZE]
        if not real.isdigit() or int(real) < member.size:
            raise PayloadError(f"{member.name!r} has a real size of {real!r}")
        size = int(real)
    return {"path": member.name, "kind": kind, "size": size}


def pack_entry(path: Path) -> bytes:
    """One entry of SUBMISSIONS (a folder, a zip, a notebook, anything else) as bytes."""
    if path.is_dir():  # as from_entry: a link to a folder is a folder
        items: list[tuple[_Item, bytes]] = [({"path": _ENTRY, "kind": "dir", "size": 0}, b"")]
        budget = MAX_ENTRY_BYTES
        for child in sorted(path.iterdir()):
            item, data = _child(child, budget)
            budget -= len(data)
            items.append((item, data))
        return _pack(items)
    if path.is_symlink() and path.suffix.lower() != ".zip":
        return _pack([({"path": _ENTRY, "kind": "link", "size": 0}, b"")])  # from_entry reads only a zip through one
    try:
        size, cap = path.stat().st_size, _cap(path, entry=True)
        too_large_zip = path.name.lower().endswith(".zip") and size > cap
        data = _read_prefix(path.resolve(), 0 if too_large_zip else min(cap, size))
    except OSError:
        size, data = 0, b""
    return _pack([({"path": _ENTRY, "kind": "file", "size": size}, data)])


def _child(path: Path, budget: int) -> tuple[_Item, bytes]:
    info = path.lstat()
    inside = f"{_ENTRY}/{path.name}"
    if stat.S_ISLNK(info.st_mode):
        return {"path": inside, "kind": "link", "size": 0}, b""
    if stat.S_ISDIR(info.st_mode):
        return {"path": inside, "kind": "dir", "size": 0}, b""
    if not stat.S_ISREG(info.st_mode):
        return {"path": inside, "kind": "other", "size": 0}, b""
    try:
        data = _read_prefix(path, min(_cap(path, entry=False), max(budget, 0)))
    except OSError:
        data = b""
    return {"path": inside, "kind": "file", "size": info.st_size}, data


def unpack_entry(data: bytes, folder: Path, name: str) -> Path:
    """Write an entry packed by ``pack_entry`` as ``folder/name`` (``folder``
    must exist and be empty) and return its path."""
    _check_name(name)
    entry = folder / name
    for item, content in _items(data):
        top, _, relative = item["path"].partition("/")
        if top != _ENTRY or "/" in relative:
            raise PayloadError(f"not an entry's member: {item['path']!r}")
        target = entry / relative if relative else entry
        kind = item["kind"]
        if kind == "dir":
            target.mkdir()
        elif kind == "link":
            target.symlink_to(_LINK_TARGET)
        elif kind == "other":
            os.mkfifo(target)
        else:
            _write(target, content, int(item["size"]))
    return entry


def _write(target: Path, content: bytes, size: int) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        if size > len(content):
            handle.truncate(size)  # a hole: the real size, no bytes


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise PayloadError(f"not a plain file name: {name!r}")


# -- the course -------------------------------------------------------------------

def course_files(course: Course, specs: Sequence[ExerciseSpec]) -> list[Path]:
    """What a worker needs to load the course and grade ``specs``: course.toml,
    the suites' folders' ``*.py`` (helpers beside a suite), the solutions that
    exist, the stubs, and a student copy's recordings."""
    files = {course.root / COURSE_FILE}
    for spec in specs:
        files.update(Path(spec.suite).parent.glob("*.py"))
        files.update(p for p in (Path(spec.suite), Path(spec.solution), Path(spec.stub)) if p.is_file())
    if course.recordings is not None and course.recordings.is_dir():
        files.update(p for p in course.recordings.rglob("*") if p.is_file())
    return sorted(files)


def pack_course(course: Course, specs: Sequence[ExerciseSpec]) -> tuple[bytes, str]:
    """The course as bytes, and its digest (``course_digest`` of what it holds)."""
    root = course.root.resolve()
    items = [(_Item(path=path.resolve().relative_to(root).as_posix(), kind="file", size=len(data)), data)
             for path in course_files(course, specs) for data in [path.read_bytes()]]
    return _pack(items), course_digest((item["path"], data) for item, data in items)


def course_digest(files: Iterable[tuple[str, bytes]]) -> str:
    """sha256 over each file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path, data in sorted(files):
        digest.update(path.encode() + b"\0" + hashlib.sha256(data).digest())
    return digest.hexdigest()


def unpack_course(data: bytes, root: Path, expected_digest: str) -> None:
    """Write a packed course under ``root`` and check, from the files as
    written, that it is the course the client packed. Raises PayloadError."""
    for item, content in _items(data):
        if item["kind"] != "file":
            raise PayloadError(f"a course holds files only, not {item['path']!r}")
        target = root.joinpath(*item["path"].split("/"))  # plain names (_member)
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, content, len(content))
    written = [(p.relative_to(root).as_posix(), p.read_bytes()) for p in root.rglob("*") if p.is_file()]
    if course_digest(written) != expected_digest:
        raise PayloadError("the course unpacked on this worker is not the one the client sent "
                           "(its fingerprint differs): refusing to grade with it")
