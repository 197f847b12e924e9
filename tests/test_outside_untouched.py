"""Nothing outside a sandbox's scratch folder changes, whatever a submission
does (issue 14: "what it must show").

Files are planted around the sandboxes — in a folder beside their scratch
folders, in the temp folder that holds those scratch folders, and in the test
session's own temp folder — and their bytes and metadata (mode, owner, times,
link count, inode, extended attributes) are compared before and after
grading submissions that try everything on them: write, truncate, chmod,
chown, utime, xattrs, the immutable flag, unlink, rename, hard links, and
symbolic links planted in scratch pointing out (then written and chmod-ed
through) or created outside. Through ``grade exerciseN`` (``grade_local``)
and ``grade batch`` alike.
"""
from __future__ import annotations

import ctypes
import os
import stat
import tempfile
from pathlib import Path

import pytest

from grader.commands.batch import controller
from grader.record import classbook
from grader.options import GradeOptions
from grader.commands.grade import grade_local

ATTACK = '''
import ctypes, os

TARGETS = {targets!r}
OUT = os.path.join(os.getcwd(), "pwned-link")


def attempts(path):
    folder = os.path.dirname(path)
    yield lambda: open(path, "a").write("pwned")
    yield lambda: open(path, "w").close()  # truncate by opening
    yield lambda: os.truncate(path, 0)
    yield lambda: os.chmod(path, 0)
    yield lambda: os.chmod(path, 0o777, follow_symlinks=False)
    yield lambda: os.chown(path, 12345, 12345)
    yield lambda: os.lchown(path, 12345, 12345)
    yield lambda: os.utime(path, (0, 0))
    yield lambda: os.setxattr(path, "user.pwned", b"1")
    yield lambda: os.removexattr(path, "user.keep")
    yield lambda: immutable(path)
    yield lambda: os.rename(path, path + ".pwned")
    yield lambda: os.link(path, "pwned-hard")
    yield lambda: open("pwned-hard", "a").write("pwned")
    yield lambda: os.symlink(path, OUT)
    yield lambda: open(OUT, "a").write("pwned")
    yield lambda: os.chmod(OUT, 0)
    yield lambda: os.utime(OUT, (0, 0))
    yield lambda: os.unlink(OUT)
    yield lambda: os.symlink("/etc/passwd", os.path.join(folder, "pwned-symlink"))
    yield lambda: os.mkdir(os.path.join(folder, "pwned-folder"))
    yield lambda: os.unlink(path)
    yield lambda: os.rmdir(path)


def immutable(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        libc, flags = ctypes.CDLL(None, use_errno=True), ctypes.c_long(0)
        libc.ioctl(fd, ctypes.c_ulong(0x80086601), ctypes.byref(flags))  # FS_IOC_GETFLAGS
        flags.value |= 0x10  # FS_IMMUTABLE_FL
        if libc.ioctl(fd, ctypes.c_ulong(0x40086602), ctypes.byref(flags)):  # FS_IOC_SETFLAGS
            raise OSError(ctypes.get_errno(), "FS_IOC_SETFLAGS")
    finally:
        os.close(fd)


def attack():
    for path in TARGETS + [os.path.dirname(os.getcwd())]:
        for attempt in attempts(path):
            try:
                attempt()
            except Exception:
                pass


{when}


def model(x, w, b):
    {in_call}
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
'''


_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10
_libc = ctypes.CDLL(None, use_errno=True)


def inode_flags(path: Path, *, clear: int = 0) -> int:
    """The file's inode flags (chattr), after clearing ``clear`` from them."""
    fd = os.open(path, os.O_RDONLY)
    try:
        flags = ctypes.c_long(0)
        if _libc.ioctl(fd, ctypes.c_ulong(_FS_IOC_GETFLAGS), ctypes.byref(flags)) != 0:
            return -1  # a file system without inode flags
        if flags.value & clear:
            flags.value &= ~clear
            _libc.ioctl(fd, ctypes.c_ulong(_FS_IOC_SETFLAGS), ctypes.byref(flags))
        return flags.value
    finally:
        os.close(fd)


def snapshot(path: Path, *, contents: bool = True) -> dict:
    """What a wall must keep: bytes, mode, owner, times, links, inode, xattrs, flags."""
    status = os.lstat(path)
    taken = {"mode": stat.filemode(status.st_mode), "owner": (status.st_uid, status.st_gid),
             "xattrs": sorted(os.listxattr(path, follow_symlinks=False)), "flags": inode_flags(path)}
    if contents:
        taken.update(inode=status.st_ino, links=status.st_nlink, mtime=status.st_mtime_ns,
                     ctime=status.st_ctime_ns)
        taken["bytes"] = path.read_bytes() if path.is_file() else sorted(os.listdir(path))
    return taken


@pytest.fixture
def surroundings(tmp_path, tmp_path_factory, monkeypatch):
    """A temp folder for the sandboxes' scratch folders (TMPDIR), and files
    planted beside and above them; returns (the temp folder, the planted
    paths, a function that snapshots all of them)."""
    temp = tmp_path / "temp"
    temp.mkdir()
    sibling = temp / "sibling"  # a folder beside the scratch folders
    sibling.mkdir()
    planted = [sibling / "answers.txt", temp / "beside-scratch.txt",
               tmp_path_factory.getbasetemp() / f"planted-{tmp_path.name}.txt"]
    for number, path in enumerate(planted):
        path.write_text(f"planted {number}: leave me alone\n")
        path.chmod(0o644)
        os.setxattr(path, "user.keep", b"yes")
    os.setxattr(sibling, "user.keep", b"yes")
    monkeypatch.setenv("TMPDIR", str(temp))  # batch workers read it
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # this process already cached its own

    def take() -> dict:
        # The temp folder's own entries and times change as scratch folders
        # come and go (the grader's doing); its mode, owner and xattrs must not.
        taken = {str(path): snapshot(path) for path in (*planted, sibling)}
        taken["temp folder"] = snapshot(temp, contents=False)
        return taken

    yield temp, [str(path) for path in (*planted, sibling)], take
    for path in (*planted, sibling, temp):  # so that a failed run can still be cleaned up
        if path.exists():
            inode_flags(path, clear=_FS_IMMUTABLE_FL)
            path.chmod(0o755)
    for path in planted:
        path.unlink(missing_ok=True)


def _write_attackers(folder: Path, targets: list[str]) -> list[Path]:
    """Two submissions: one attacks while imported, one when model is called."""
    made = []
    for name, when, in_call in (("at_import", "attack()", "pass"), ("in_call", "", "attack()")):
        submission = folder / name
        submission.mkdir(parents=True)
        (submission / "exercise1.py").write_text(ATTACK.format(targets=targets, when=when, in_call=in_call))
        made.append(submission)
    return made


def _leftovers(temp: Path) -> list[str]:
    return [str(path) for path in temp.rglob("*pwned*")]


def test_grade_exercise_leaves_everything_outside_scratch_as_it_was(surroundings, tmp_path):
    temp, targets, take = surroundings
    before = take()
    for submission in _write_attackers(tmp_path / "submissions", targets):
        _, result = grade_local(exercise_ids=["exercise1"], submission=submission)
        assert result.score == result.max_score, [t.message[:200] for e in result.exercises for t in e.tests]
        assert not result.sandbox.missing, result.sandbox.missing
    assert take() == before
    assert _leftovers(temp) == [] and _leftovers(tmp_path / "submissions") == []


def test_grade_batch_leaves_everything_outside_scratch_as_it_was(surroundings, tmp_path, course):
    temp, targets, take = surroundings
    before = take()
    submissions = tmp_path / "submissions"
    _write_attackers(submissions, targets)
    outcome = controller.run_batch(submissions, tmp_path / "out", course, exercise_ids=["exercise1"], jobs=2, options=GradeOptions(timeout_s=5, memory_mb=512))
    assert not outcome.interrupted and not outcome.failed
    results = classbook.collect_results(tmp_path / "out")
    assert sorted(r.submission for r in results) == ["at_import", "in_call"]
    assert all(r.score == r.max_score for r in results), [(r.submission, r.score) for r in results]
    assert take() == before
    assert _leftovers(temp) == [] and _leftovers(submissions) == []
