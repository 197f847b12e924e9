"""What a room may read: the interpreter's library, shared libraries, a few devices; never the grader or a course.

Computed once in the zygote (``library_paths``); Landlock (``landlock.py``)
turns the answer into read-only rules. Untrusted side: stdlib only.
"""
from __future__ import annotations

import glob
import os
import site
import sys
import sysconfig
from collections.abc import Collection

_SHARED_LIBS = ("/usr/lib", "/lib", "/lib64", "/usr/lib64", "/etc/ld.so.cache")
_DEVICES = ("/dev/null", "/dev/urandom", "/dev/zero")
# Names that must never be readable from a sandbox even when they sit inside
# a folder that is otherwise fine to read (site-packages holding an installed
# `grader`, say).
_FORBIDDEN_NAMES = frozenset({"grader", "solutions"})


def library_paths() -> tuple[str, ...]:
    """Paths a sandbox may read (never write): the interpreter's stdlib,
    site-packages entries (but NOT a ``grader`` package folder in
    site-packages, NOR any path that contains a ``solutions`` dir or course
    repo), shared libs (/usr/lib, /lib, /lib64, /usr/lib64, /etc/ld.so.cache),
    /dev/null, /dev/urandom, /dev/zero. Computed once in the zygote.

    Other ``sys.path`` entries (the zygote's script folder or cwd, PYTHONPATH,
    editable installs such as the grader's own checkout) are left out: the
    sandbox imports the submission from its scratch folder, and everything
    else it needs is already imported or lives in the interpreter's library.

    Calling it also prepares, once, what ``apply_walls`` reuses in every child
    (the Landlock plan for these paths and the compiled seccomp program), so
    call it in the zygote before the first fork.
    """
    library_dirs = _interpreter_library_dirs()
    prefixes = {os.path.realpath(p) for p in
                (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)}
    candidates = list(library_dirs)
    for entry in sys.path:  # e.g. pythonXY.zip and lib-dynload, under the prefix
        real = os.path.realpath(entry) if entry else ""
        if real and any(is_within(real, prefix) for prefix in prefixes):
            candidates.append(real)
    candidates = [c for c in dict.fromkeys(candidates) if os.path.exists(c)]
    forbidden = [f for c in candidates for f in _find_forbidden(c, library_dirs, depth=2)]
    shared = [os.path.realpath(p) for p in _SHARED_LIBS if os.path.exists(p)]
    # A system-wide install (/usr/lib/python3/dist-packages/grader) sits
    # deeper in the shared-lib folders than the scan above reaches.
    system_python = [p for lib in shared if os.path.isdir(lib)
                     for p in glob.glob(os.path.join(glob.escape(lib), "python*", "*-packages"))]
    forbidden += [f for p in system_python for f in _find_forbidden(p, [], depth=2)]
    forbidden += [f for lib in shared for f in _find_forbidden(lib, [], depth=1)]
    grants = [g for c in candidates + shared for g in _grant_around(c, forbidden)]
    grants += [os.path.realpath(p) for p in _DEVICES if os.path.exists(p)]
    return _drop_nested(grants)


def _interpreter_library_dirs() -> list[str]:
    names = ("stdlib", "platstdlib", "purelib", "platlib")
    paths = [sysconfig.get_path(name) for name in names]
    try:
        paths += site.getsitepackages()
    except AttributeError:  # some embedded / old virtualenv builds
        pass
    if site.ENABLE_USER_SITE:
        paths.append(site.getusersitepackages())
    return [os.path.realpath(p) for p in paths if p and os.path.isdir(p)]


def _looks_like_course_repo(names: Collection[str]) -> bool:
    return "solutions" in names or "course.toml" in names


def _is_course_repo_or_inside_one(path: str, library_dirs: list[str]) -> bool:
    """A course repo's own folders are refused; the interpreter's library
    folders are not, even when the venv lives inside the course repo (their
    contents are carved like any other)."""
    current = path
    while True:
        try:
            if _looks_like_course_repo(os.listdir(current)):
                return current == path or not any(is_within(path, lib) for lib in library_dirs)
        except OSError:
            pass
        parent = os.path.dirname(current)
        if parent == current:
            return False
        current = parent


def _find_forbidden(path: str, library_dirs: list[str], depth: int) -> list[str]:
    """What must stay unreadable in or around ``path``: a course repo (a
    folder holding ``solutions/`` or ``course.toml``) found down to
    ``depth - 1`` levels, anything named ``grader`` or ``solutions`` down to
    ``depth`` levels, and ``path`` itself when it lies inside a course repo.
    Symlinks are not followed: Landlock checks the real path a link resolves
    to, so a link out of a granted folder leads nowhere readable."""
    if os.path.basename(path) in _FORBIDDEN_NAMES:
        return [path]
    if library_dirs and _is_course_repo_or_inside_one(path, library_dirs):
        return [path]
    if depth == 0 or os.path.islink(path) or not os.path.isdir(path):
        return []
    try:
        with os.scandir(path) as entries:
            children = {entry.name: entry.is_dir(follow_symlinks=False) for entry in entries}
    except OSError:
        return []
    if _looks_like_course_repo(children):
        return [path]
    found = []
    for name, is_dir in children.items():
        child = os.path.join(path, name)
        if name in _FORBIDDEN_NAMES:
            found.append(child)
        elif is_dir:
            found += _find_forbidden(child, [], depth - 1)
    return found


def _grant_around(path: str, forbidden: list[str]) -> list[str]:
    """``[path]`` if nothing forbidden lies inside it, else its children's
    grants, leaving the forbidden ones out (Landlock grants whole subtrees)."""
    if any(is_within(path, f) for f in forbidden):
        return []
    if not any(is_within(f, path) for f in forbidden):
        return [path]
    try:
        children = sorted(os.path.join(path, name) for name in os.listdir(path))
    except OSError:
        return []
    return [g for child in children for g in _grant_around(child, forbidden)]


def is_within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _drop_nested(paths: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths), key=lambda p: (p.count(os.sep), p)):
        if not any(is_within(path, outer) for outer in kept):
            kept.append(path)
    return tuple(sorted(kept))

