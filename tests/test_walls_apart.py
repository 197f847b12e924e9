"""Rooms stay apart in what outlives a process (issue 23 §4 and §8): what a room
writes is bounded in all, and no System V IPC object of one room is seen by
another or outlives it.

Each test forks a walled child from this process, as ``test_walls`` does.
"""
from __future__ import annotations

import ctypes
import errno
import os
import re

import pytest
from test_walls import ROOT, readable, run_walled, scratch, secret  # noqa: F401 - fixtures

from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import seccomp_filter, walls

LIMITS = Limits(timeout_s=10, memory_mb=256, file_size_mb=1, scratch_mb=3, open_files=64)
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
IPC_CREAT, IPC_RMID = 0o1000, 0
KEY = 0x74670023  # a fixed key, as colluding rooms would agree on


def _ipc_attempts(key: int) -> dict[str, str]:
    """Make a segment, a queue and a semaphore set under ``key``: the errno
    name of each refusal, or "made" (then removed at once)."""
    outcome = {}
    for name, make, remove in (
            ("shm", lambda: libc.shmget(key, ctypes.c_size_t(4096), IPC_CREAT | 0o666),
             lambda ident: libc.shmctl(ident, IPC_RMID, None)),
            ("msg", lambda: libc.msgget(key, IPC_CREAT | 0o666), lambda ident: libc.msgctl(ident, IPC_RMID, None)),
            ("sem", lambda: libc.semget(key, 1, IPC_CREAT | 0o666), lambda ident: libc.semctl(ident, 0, IPC_RMID))):
        ident = make()
        outcome[name] = errno.errorcode[ctypes.get_errno()] if ident < 0 else "made"
        if ident >= 0:
            remove(ident)
    return outcome


def test_a_room_can_make_no_system_v_ipc_object(scratch, readable):  # noqa: F811
    value = run_walled(lambda: _ipc_attempts(KEY), scratch, readable, limits=LIMITS)["value"]
    assert value == {"shm": "EPERM", "msg": "EPERM", "sem": "EPERM"}


def test_the_filter_refuses_every_ipc_call_this_architecture_has():
    pyseccomp = pytest.importorskip("pyseccomp")
    names = set()
    for number in range(1024):
        try:
            names.add(pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, number).decode())
        except ValueError:  # no syscall of that number here
            continue
    family = {name for name in names if re.match(r"^(shm|msg|sem|mq_)|^ipc$", name)}
    assert family and family <= set(seccomp_filter.IPC_SYSCALLS), family - set(seccomp_filter.IPC_SYSCALLS)


def _room_with_only_its_namespaces(probe):
    """A probe run with seccomp switched off: what the IPC namespace alone holds."""
    def run():
        seccomp_filter.seccomp_program = lambda: "seccomp: switched off for this test"
        report = walls.apply_walls(os.getcwd(), LIMITS, walls.readable_paths())
        return {"applied": list(report.applied), "value": probe()}
    return run


@pytest.mark.skipif(not ROOT, reason="a private IPC namespace needs root or an unprivileged user namespace")
def test_one_room_s_ipc_objects_never_reach_the_next_room_nor_outlive_it(scratch, readable):  # noqa: F811
    def leave_a_segment():
        ident = libc.shmget(KEY, ctypes.c_size_t(4096), IPC_CREAT | 0o666)
        if ident < 0:
            return errno.errorcode[ctypes.get_errno()]
        address = libc.shmat(ident, None, 0)
        ctypes.memmove(ctypes.c_void_p(address), b"print('from the last room')", 27)
        return "left"

    def find_it():
        ident = libc.shmget(KEY, ctypes.c_size_t(0), 0)
        return "found" if ident >= 0 else errno.errorcode[ctypes.get_errno()]

    before = os.getcwd()
    os.chdir(scratch)
    try:
        first = run_walled(_room_with_only_its_namespaces(leave_a_segment), scratch, readable, walled=False)
        second = run_walled(_room_with_only_its_namespaces(find_it), scratch, readable, walled=False)
    finally:
        os.chdir(before)  # the next test file in this worker may find the course from here
    assert "ipc_namespace" in first["value"]["applied"] and first["value"]["value"] == "left"
    assert second["value"]["value"] == "ENOENT"
    assert libc.shmget(KEY, ctypes.c_size_t(0), 0) < 0  # nothing outlived the room on the grader's side


@pytest.mark.skipif(not ROOT, reason="a private tmpfs needs root or an unprivileged user namespace")
def test_what_a_room_writes_is_bounded_in_all_and_never_reaches_the_disk(scratch, readable):  # noqa: F811
    def fill():
        written, block = 0, b"\0" * (256 << 10)
        try:
            for number in range(40):  # 40 files of 256 KB: each under the 1 MB file cap, 10 MB in all
                with open(scratch / f"part{number}.bin", "wb") as handle:
                    handle.write(block)
                    written += len(block)
        except OSError as error:
            return {"written": written, "error": errno.errorcode[error.errno or 0]}
        return {"written": written, "error": None}

    answer = run_walled(fill, scratch, readable, limits=LIMITS)
    assert "scratch_quota" in answer["applied"]
    assert answer["value"]["error"] == "ENOSPC" and answer["value"]["written"] <= LIMITS.scratch_mb << 20
    assert os.listdir(scratch) == []  # the room's files lived in its tmpfs only


@pytest.mark.skipif(not ROOT, reason="a private tmpfs needs root or an unprivileged user namespace")
def test_a_room_cannot_lift_its_quota(scratch, readable):  # noqa: F811
    def lift():
        attempts = {"umount": lambda: libc.umount2(os.fsencode(str(scratch)), 2),  # MNT_DETACH
                    "remount": lambda: libc.mount(None, os.fsencode(str(scratch)), b"tmpfs", 0x20,  # MS_REMOUNT
                                                  b"size=1g"),
                    "unshare": lambda: libc.unshare(0x00020000)}  # CLONE_NEWNS
        outcome = {name: errno.errorcode[ctypes.get_errno()] if attempt() != 0 else "done"
                   for name, attempt in attempts.items()}
        status = os.statvfs(scratch)
        outcome["size"] = status.f_blocks * status.f_frsize
        return outcome

    value = run_walled(lift, scratch, readable, limits=LIMITS)["value"]
    assert {value[name] for name in ("umount", "remount", "unshare")} == {"EPERM"}
    assert value["size"] <= LIMITS.scratch_mb << 20


def test_the_canary_checks_the_quota(scratch, secret, readable):  # noqa: F811
    def canary():
        return walls.canary_report(str(scratch), str(secret), os.getppid(),
                                   scratch_quota_bytes=LIMITS.scratch_mb << 20)["exceed_scratch_quota"]

    assert run_walled(canary, scratch, readable, limits=LIMITS, walled=False)["value"] is False
    if ROOT:
        assert run_walled(canary, scratch, readable, limits=LIMITS)["value"] is True
