"""What a cluster worker is sent (``payload``): a tar it never extracts blindly. Entries and courses
round-trip; a payload holding anything a client does not pack is refused, nothing written outside."""
from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

import pytest

from grader.commands.batch import payload
from grader.commands.batch.payload import PayloadError, pack_entry, unpack_course, unpack_entry
from grader.course.catalogue import load_course

REPO = Path(__file__).resolve().parent.parent


def test_an_entry_round_trips_with_its_kinds_and_real_sizes(tmp_path):
    entry = tmp_path / "alice"
    entry.mkdir()
    (entry / "exercise1.py").write_text("x = 1\n")
    (entry / "data.bin").write_bytes(b"\0" * 1000)  # shipped by size alone
    (entry / "secret.py").symlink_to("/etc/passwd")
    (entry / "sub").mkdir()
    os.mkfifo(entry / "pipe")
    (tmp_path / "out").mkdir()
    copy = unpack_entry(pack_entry(entry), tmp_path / "out", "alice")
    assert (copy / "exercise1.py").read_text() == "x = 1\n"
    assert (copy / "data.bin").stat().st_size == 1000
    assert (copy / "secret.py").is_symlink() and not (copy / "secret.py").exists()
    assert (copy / "sub").is_dir() and (copy / "pipe").is_fifo()
    assert pack_entry(entry) == pack_entry(entry)  # the same files, the same bytes


def test_a_course_round_trips_and_is_checked_against_its_digest(tmp_path):
    course = load_course(REPO)
    data, digest = payload.pack_course(course, course.exercises[:1])
    unpack_course(data, tmp_path / "a", digest)
    assert (tmp_path / "a" / "course.toml").read_bytes() == (REPO / "course.toml").read_bytes()
    with pytest.raises(PayloadError, match="fingerprint"):
        unpack_course(data, tmp_path / "b", "0" * 64)


def hostile(*members: tuple[tarfile.TarInfo, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for member, data in members:
            member.size = len(data) if member.isreg() else 0
            archive.addfile(member, io.BytesIO(data) if member.isreg() else None)
    return buffer.getvalue()


def info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    member = tarfile.TarInfo(name)
    member.type, member.linkname = kind, link
    return member


@pytest.mark.parametrize("members", [
    [(info("/tmp/torchgrade-owned"), b"x")],
    [(info("../owned"), b"x")],
    [(info("suites/../../owned"), b"x")],
    [(info("course.toml", tarfile.LNKTYPE, "/etc/passwd"), b"")],
    [(info("course.toml", tarfile.SYMTYPE, "/etc/passwd"), b"")],
    [(info("suites", tarfile.SYMTYPE, "/tmp"), b""), (info("suites/x.py"), b"x")],
    [(info("dev", tarfile.CHRTYPE), b"")],
], ids=["absolute", "dotdot", "inner-dotdot", "hard-link", "symlink", "through-a-link", "device"])
def test_a_course_payload_with_anything_but_plain_files_is_refused(tmp_path, members):
    with pytest.raises(PayloadError):
        unpack_course(hostile(*members), tmp_path / "course", "0" * 64)
    assert not (tmp_path / "owned").exists() and not Path("/tmp/torchgrade-owned").exists()


@pytest.mark.parametrize("members", [
    [(info("entry", tarfile.DIRTYPE), b""), (info("entry/../../owned"), b"x")],
    [(info("entry", tarfile.DIRTYPE), b""), (info("entry/a", tarfile.SYMTYPE, "/etc/passwd"), b"")],
    [(info("entry", tarfile.DIRTYPE), b""), (info("entry/a/b"), b"x")],
    [(info("other"), b"x")],
], ids=["dotdot", "symlink", "nested", "not-the-entry"])
def test_an_entry_payload_with_anything_a_client_does_not_pack_is_refused(tmp_path, members):
    (tmp_path / "out").mkdir()
    with pytest.raises(PayloadError):
        unpack_entry(hostile(*members), tmp_path / "out", "alice")
    assert not (tmp_path / "owned").exists()


def test_garbage_and_too_many_members_are_refused(tmp_path, monkeypatch):
    (tmp_path / "out").mkdir()
    with pytest.raises(PayloadError):
        unpack_entry(b"\x00\x01 not a tar" * 100, tmp_path / "out", "alice")
    monkeypatch.setattr(payload, "MAX_MEMBERS", 3)
    many = hostile(*[(info(f"f{n}.py"), b"") for n in range(5)])
    with pytest.raises(PayloadError, match="more than 3"):
        unpack_course(many, tmp_path / "course", "0" * 64)
