"""The walls around a sandbox child hold on this machine, and torch still works
behind them.

Each test forks a child from this process (which imported and warmed torch,
as the zygote does), walls it in with ``apply_walls`` and runs a probe inside;
the probe's answer comes back as JSON over a pipe, the only way out.
"""
from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import select
import shutil
import signal
import site
import sys
import tempfile
import time
import traceback
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest
import torch

from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import landlock, privileges, seccomp_filter, walls
from grader.sandbox.untrusted import readable as readable_module

# What the zygote does before its first fork: one thread, cpuinfo read while
# /proc is still readable, and the first optimizer's import of torch._dynamo
# (which wants a cache folder in /tmp) paid up front.
torch.set_num_threads(1)
torch.backends.cpu.get_cpu_capability()
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)

LIMITS = Limits(timeout_s=10, memory_mb=256, file_size_mb=1, open_files=64)
REPO = Path(__file__).resolve().parents[1]
BLOCKED_EVERYWHERE = {"read_outside", "write_outside", "tcp", "udp", "fork", "exec",
                      "signal_parent", "proc_parent", "change_mode_outside", "change_owner_outside",
                      "change_times_outside", "set_xattr_outside", "stay_root", "make_sysv_ipc"}
ROOT = os.geteuid() == 0

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="the walls are Linux walls")


@pytest.fixture(scope="module")
def readable() -> tuple[str, ...]:
    return walls.readable_paths()


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside scratch that a sandbox must not read, in a folder it must
    not write."""
    folder = tmp_path / "outside"
    folder.mkdir()
    path = folder / "secret.txt"
    path.write_text("expected answer: 42\n")
    return path


def run_walled(probe, scratch: Path, readable: tuple[str, ...], *, limits: Limits = LIMITS,
               walled: bool = True, timeout_s: float = 60.0) -> dict:
    """Fork, wall the child in (unless ``walled`` is False), run ``probe()``
    there and return ``{"applied", "missing", "cost_ms", "value"}``."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_end)
            answer: dict = {"applied": [], "missing": [], "cost_ms": 0.0}
            if walled:
                started = time.perf_counter_ns()
                report = walls.apply_walls(str(scratch), limits, readable)
                answer["cost_ms"] = (time.perf_counter_ns() - started) / 1e6
                answer.update(applied=list(report.applied), missing=list(report.missing))
            answer["value"] = probe()
        except BaseException:
            answer = {"error": traceback.format_exc()}
            code = 1
        finally:
            try:
                data = json.dumps(answer).encode()
                while data:
                    data = data[os.write(write_end, data):]
            finally:
                os._exit(code)
    os.close(write_end)
    chunks, deadline = [], time.monotonic() + timeout_s
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"walled child did not answer within {timeout_s} s")
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    answer = json.loads(b"".join(chunks) or b'{"error": "child died without answering"}')
    assert "error" not in answer, answer["error"]
    return answer


def test_every_wall_is_up_on_this_machine(scratch, readable):
    answer = run_walled(lambda: None, scratch, readable)
    assert answer["missing"] == []
    assert set(answer["applied"]) >= {"rlimits", "no_new_privs", "landlock", "seccomp"}
    assert any(name.startswith("privilege_drop") for name in answer["applied"]) == ROOT
    print(f"apply_walls took {answer['cost_ms']:.2f} ms in this child")
    assert answer["cost_ms"] < 50  # ~1 ms measured; generous for a loaded CI box


def test_canary_finds_everything_blocked(scratch, secret, readable):
    answer = run_walled(lambda: walls.canary_report(str(scratch), str(secret), os.getppid()),
                        scratch, readable)
    assert answer["value"] == {name: True for name in BLOCKED_EVERYWHERE}
    assert os.listdir(secret.parent) == ["secret.txt"]  # nothing written next to it


def test_canary_tells_the_truth_without_walls(scratch, secret, readable):
    # The same attempts in an unwalled child all succeed: a missing wall
    # cannot hide behind a canary that always says "blocked".
    answer = run_walled(lambda: walls.canary_report(str(scratch), str(secret), os.getppid()),
                        scratch, readable, walled=False)
    assert answer["value"] == {name: False for name in BLOCKED_EVERYWHERE}


def test_missing_wall_is_reported_in_plain_words_and_canary_notices(scratch, secret, readable):
    def probe():
        seccomp_filter.seccomp_program = lambda: "seccomp: switched off for this test"  # child only
        report = walls.apply_walls(str(scratch), LIMITS, readable)
        return {"report": [list(report.applied), list(report.missing)],
                "canary": walls.canary_report(str(scratch), str(secret), os.getppid())}

    value = run_walled(probe, scratch, readable, walled=False)["value"]
    dropped = [name for name in value["report"][0] if name.startswith("privilege_drop")]
    namespaced = [name for name in value["report"][0] if name in ("ipc_namespace", "scratch_quota")]
    assert value["report"] == [[*namespaced, "rlimits", "no_new_privs", "landlock", *dropped],
                               ["seccomp: switched off for this test"]]
    assert len(dropped) == ROOT and len(namespaced) == 2 * ROOT
    # Landlock alone stops files, TCP, signals and exec, not UDP or fork.
    assert value["canary"]["udp"] is False and value["canary"]["fork"] is False
    assert value["canary"]["read_outside"] and value["canary"]["tcp"]


def test_torch_and_python_still_work_behind_the_walls(scratch, readable):
    candidates = ["fractions", "decimal", "wave", "colorsys", "graphlib", "sqlite3", "lzma", "bz2"]
    not_yet_imported = [name for name in candidates if name not in sys.modules]
    assert not_yet_imported, "every candidate module is already imported"
    side_read, side_write = os.pipe()

    def probe():
        import importlib
        import threading

        product = torch.randn(100, 100) @ torch.randn(100, 100)
        x = torch.randn(5, requires_grad=True)
        (grad,) = torch.autograd.grad((x ** 2).sum(), x)
        weight = torch.ones(3, requires_grad=True)
        optimizer = torch.optim.SGD([weight], lr=0.5)
        (weight * 2).sum().backward()
        optimizer.step()
        for name in not_yet_imported:
            importlib.import_module(name)
        if "sqlite3" in not_yet_imported:  # a C extension that loads a shared lib
            sys.modules["sqlite3"].connect(":memory:").execute("select 1").fetchall()
        (scratch / "notes.txt").write_text("hello")
        (scratch / "notes.txt").touch()  # its utime is refused; touch goes on without it
        shutil.copyfile(scratch / "notes.txt", scratch / "copy.txt")
        (scratch / "sub").mkdir()
        (scratch / "notes.txt").rename(scratch / "sub" / "notes.txt")
        threaded = []
        worker = threading.Thread(target=lambda: threaded.append(1))
        worker.start()
        worker.join()
        torch.set_num_threads(2)  # torch's own pool needs clone(CLONE_THREAD)
        parallel = torch.randn(400, 400) @ torch.randn(400, 400)
        os.write(side_write, b"ping")
        return {
            "matmul": list(product.shape),
            "grad_ok": bool(torch.allclose(grad, 2 * x)),
            "sgd_weight": weight.tolist(),
            "imported": [name for name in not_yet_imported if name in sys.modules],
            "scratch_read": (scratch / "sub" / "notes.txt").read_text(),
            "thread": threaded,
            "parallel_ok": bool(torch.isfinite(parallel).all()),
        }

    try:
        value = run_walled(probe, scratch, readable)["value"]
        assert os.read(side_read, 4) == b"ping"
    finally:
        os.close(side_read)
        os.close(side_write)
    assert value == {
        "matmul": [100, 100],
        "grad_ok": True,
        "sgd_weight": [0.0, 0.0, 0.0],
        "imported": not_yet_imported,
        "scratch_read": "hello",
        "thread": [1],
        "parallel_ok": True,
    }


def test_memory_bomb_fails_instead_of_eating_the_machine(scratch, readable):
    bomb_bytes = 4 * LIMITS.memory_mb * 1024 * 1024

    def probe():
        outcomes = {}
        try:
            block = bytearray(bomb_bytes)  # zero-filled, so every page is touched
            outcomes["bytearray"] = f"allocated {len(block)} bytes"
        except MemoryError:
            outcomes["bytearray"] = "MemoryError"
        try:
            tensor = torch.ones(bomb_bytes // 4)
            outcomes["tensor"] = f"allocated {tensor.numel()} floats"
        except RuntimeError:
            outcomes["tensor"] = "RuntimeError"
        outcomes["small_still_fine"] = float(torch.ones(1000).sum())
        return outcomes

    value = run_walled(probe, scratch, readable)["value"]
    assert value == {"bytearray": "MemoryError", "tensor": "RuntimeError",
                     "small_still_fine": 1000.0}


def test_oversized_file_fails_with_efbig(scratch, readable):
    def probe():
        try:
            with open(scratch / "big.bin", "wb") as handle:
                handle.write(b"x" * ((LIMITS.file_size_mb + 1) * 1024 * 1024))
        except OSError as error:
            return errno.errorcode[error.errno]
        return "written"

    assert run_walled(probe, scratch, readable)["value"] == "EFBIG"


def test_limits_cannot_be_changed_from_inside(scratch, readable):
    # Raising a soft limit up to its hard limit needs no privilege, so only
    # the seccomp wall stops a submission from buying itself more CPU time.
    def probe():
        import resource

        before = resource.getrlimit(resource.RLIMIT_CPU)
        more_cpu = (before[1], before[1])
        outcomes = []
        attempts = [lambda: resource.setrlimit(resource.RLIMIT_CPU, more_cpu),  # prlimit64
                    lambda: resource.prlimit(0, resource.RLIMIT_CPU, more_cpu)]
        if platform.machine() == "x86_64":  # the old setrlimit syscall, which glibc skips
            attempts.append(lambda: _raw_setrlimit(160, resource.RLIMIT_CPU, more_cpu))
        for attempt in attempts:
            try:
                attempt()
                outcomes.append("changed")
            except (OSError, ValueError):
                outcomes.append("refused")
        return [*outcomes, resource.getrlimit(resource.RLIMIT_CPU) == before]

    value = run_walled(probe, scratch, readable)["value"]
    assert value[-1] is True and set(value[:-1]) == {"refused"}


def _raw_setrlimit(number: int, which: int, limits: tuple[int, int]) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pair = (ctypes.c_ulong * 2)(*limits)
    if libc.syscall(ctypes.c_long(number), ctypes.c_long(which), pair) != 0:
        raise OSError(ctypes.get_errno(), "setrlimit failed")


def test_course_files_and_grader_stay_unreadable(tmp_path, scratch, monkeypatch):
    # A site-packages folder holding an installed `grader` and a course repo,
    # and a course repo on sys.path: none of it may be readable.
    site_packages = tmp_path / "site-packages"
    (site_packages / "okpkg").mkdir(parents=True)
    (site_packages / "okpkg" / "__init__.py").write_text("OK = 1\n")
    (site_packages / "grader").mkdir()
    (site_packages / "grader" / "__init__.py").write_text("HIDDEN = 1\n")
    nested_course = site_packages / "course"
    (nested_course / "solutions").mkdir(parents=True)
    (nested_course / "solutions" / "exercise1.py").write_text("ANSWER = 42\n")
    (nested_course / "suites").mkdir()
    (nested_course / "suites" / "test_exercise1.py").write_text("# hidden suite\n")
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "solutions" / "exercise1.py").write_text("ANSWER = 42\n")
    (course / "course.toml").write_text("[course]\n")
    real_site_packages = site.getsitepackages()
    monkeypatch.setattr(site, "getsitepackages",
                        lambda: [*real_site_packages, str(site_packages)])
    monkeypatch.syspath_prepend(str(course))
    readable = walls.readable_paths()

    assert str(site_packages / "okpkg") in readable
    assert not any(readable_module.is_within(str(path), granted) for granted in readable
                   for path in (site_packages / "grader", nested_course, course))

    targets = {
        "okpkg": site_packages / "okpkg" / "__init__.py",
        "installed_grader": site_packages / "grader" / "__init__.py",
        "course_in_site_packages": nested_course / "solutions" / "exercise1.py",
        "suite_in_site_packages": nested_course / "suites" / "test_exercise1.py",
        "course_on_sys_path": course / "solutions" / "exercise1.py",
        "repo_solution": REPO / "solutions" / "exercise1.py",
        "repo_grader": REPO / "grader" / "sandbox" / "limits.py",
        "repo_suite": REPO / "suites" / "test_exercise1.py",
        "repo_course_toml": REPO / "course.toml",
    }

    def probe():
        outcome = {}
        for name, path in targets.items():
            try:
                path.read_bytes()
                outcome[name] = "read"
            except PermissionError:
                outcome[name] = "denied"
        return outcome

    value = run_walled(probe, scratch, readable)["value"]
    assert value == {name: "read" if name == "okpkg" else "denied" for name in targets}


def test_readable_paths_cover_the_interpreter_and_nothing_of_ours(readable):
    def covered(path) -> bool:
        return any(readable_module.is_within(os.path.realpath(path), granted) for granted in readable)

    assert covered(os.__file__) and covered(torch.__file__) and covered("/dev/null")
    for private in (REPO, REPO / "solutions", REPO / "grader", "/proc/self/status", "/tmp"):
        assert not covered(private), private
    assert not any(readable_module.is_within(str(REPO), granted) for granted in readable)


# --------------------------------------------------------------------------
# File metadata (issue 14 §3): Landlock governs contents, not modes, owners,
# times or extended attributes; seccomp and the privilege drop do.
# --------------------------------------------------------------------------
_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS = 0x80086601, 0x40086602


def _metadata(path: Path) -> dict:
    status = os.lstat(path)
    try:
        xattrs = {name: os.getxattr(path, name, follow_symlinks=False).hex()
                  for name in os.listxattr(path, follow_symlinks=False)}
    except OSError:
        xattrs = {}
    return {"mode": status.st_mode, "uid": status.st_uid, "gid": status.st_gid,
            "mtime": status.st_mtime_ns, "ctime": status.st_ctime_ns, "xattrs": xattrs,
            "bytes": path.read_bytes() if path.is_file() else None}


def _metadata_attempts(target: Path) -> dict[str, str]:
    """Every way to change ``target``'s metadata: "changed" or the errno's name."""
    def set_flags():
        fd = os.open(target, os.O_RDONLY)
        try:
            flags = ctypes.c_long(0)
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.ioctl(fd, ctypes.c_ulong(_FS_IOC_GETFLAGS), ctypes.byref(flags)) != 0:
                raise OSError(ctypes.get_errno(), "FS_IOC_GETFLAGS")
            flags.value |= 0x10  # FS_IMMUTABLE_FL
            if libc.ioctl(fd, ctypes.c_ulong(_FS_IOC_SETFLAGS), ctypes.byref(flags)) != 0:
                raise OSError(ctypes.get_errno(), "FS_IOC_SETFLAGS")
        finally:
            os.close(fd)

    def with_fd(action):
        fd = os.open(target, os.O_RDONLY)  # readable: a descriptor needs no write right
        try:
            action(fd)
        finally:
            os.close(fd)

    attempts = {
        "chmod": lambda: os.chmod(target, 0o777),
        "lchmod": lambda: os.chmod(target, 0o777, follow_symlinks=False),  # fchmodat2
        "fchmod": lambda: with_fd(lambda fd: os.fchmod(fd, 0o777)),
        "chown": lambda: os.chown(target, 12345, 12345),
        "lchown": lambda: os.lchown(target, 12345, 12345),
        "fchown": lambda: with_fd(lambda fd: os.fchown(fd, 12345, 12345)),
        "utime": lambda: os.utime(target, (0, 0)),
        "futimens": lambda: with_fd(lambda fd: os.utime(fd, (0, 0))),
        "setxattr": lambda: os.setxattr(target, "user.pwned", b"1"),
        "lsetxattr": lambda: os.setxattr(target, "user.pwned", b"1", follow_symlinks=False),
        "fsetxattr": lambda: with_fd(lambda fd: os.setxattr(fd, "user.pwned", b"1")),
        "removexattr": lambda: os.removexattr(target, "user.keep"),
        "immutable_flag": set_flags,
    }
    outcome = {}
    for name, attempt in attempts.items():
        try:
            attempt()
            outcome[name] = "changed"
        except OSError as error:
            outcome[name] = errno.errorcode.get(error.errno, str(error.errno))
    return outcome


@pytest.fixture
def planted(tmp_path: Path) -> Path:
    """A world-readable file outside scratch, with an xattr to remove."""
    folder = tmp_path / "planted"
    folder.mkdir(mode=0o755)
    tmp_path.chmod(0o755)
    path = folder / "victim.txt"
    path.write_text("leave me alone\n")
    path.chmod(0o644)
    os.setxattr(path, "user.keep", b"yes")
    return path


def _without(*parts: str):
    """A probe prefix that switches walls off in the child only."""
    def switch_off():
        if "seccomp" in parts:
            seccomp_filter.seccomp_program = lambda: "seccomp: switched off for this test"
        if "drop" in parts:
            privileges.drop_privileges = lambda *args: ("", "")
        if "landlock" in parts:
            landlock.landlock_plan = lambda readable: "landlock: switched off for this test"
    return switch_off


@pytest.mark.parametrize("switched_off", [(), ("drop",), ("seccomp",)],
                         ids=["all walls", "seccomp alone", "privilege drop alone"])
def test_no_metadata_change_outside_or_inside_scratch(scratch, planted, readable, switched_off):
    if "seccomp" in switched_off and not ROOT:
        pytest.skip("only a grader running as root has a privilege to drop")
    inside = scratch / "mine.txt"
    before = {path: _metadata(path) for path in (planted, planted.parent)}

    def probe():
        _without(*switched_off)()
        report = walls.apply_walls(str(scratch), LIMITS, readable)
        inside.write_text("scratch file\n")
        return {"applied": list(report.applied), "outside": _metadata_attempts(planted),
                "inside": _metadata_attempts(inside) if "seccomp" not in switched_off else {}}

    value = run_walled(probe, scratch, readable, walled=False)["value"]
    assert {path: _metadata(path) for path in (planted, planted.parent)} == before
    assert set(value["outside"].values()) <= {"EPERM", "EACCES"}, value["outside"]
    if "seccomp" not in switched_off:  # seccomp refuses them everywhere, scratch included
        assert set(value["inside"].values()) == {"EPERM"}, value["inside"]


@pytest.mark.skipif(not ROOT, reason="only a grader running as root drops privileges")
def test_a_root_grader_s_room_runs_as_its_own_unprivileged_user(scratch, readable):
    grader_pid = os.getpid()

    def probe():
        import resource
        import threading

        _without("seccomp", "landlock")()  # what the kernel's own permissions refuse
        report = walls.apply_walls(str(scratch), LIMITS, readable)
        (scratch / "helper.py").write_text("HELPER = 1\n")  # as the room writes a submission's helpers
        started, release = [], threading.Event()
        try:
            for _ in range(walls.ROOM_TASKS + 10):
                thread = threading.Thread(target=release.wait)
                thread.start()
                started.append(thread)
        except RuntimeError:
            pass
        release.set()
        for thread in started:
            thread.join()
        outcome = {"applied": list(report.applied), "missing": list(report.missing),
                   "ids": [*os.getresuid(), *os.getresgid()], "groups": os.getgroups(),
                   "capabilities": walls.capabilities(), "threads": len(started),
                   "nproc": list(resource.getrlimit(resource.RLIMIT_NPROC)),
                   "scratch_owner": os.stat(scratch).st_uid,
                   "helper": (scratch / "helper.py").read_text()}
        (scratch / "written.txt").write_text("mine")
        outcome["written_owner"] = (scratch / "written.txt").stat().st_uid
        for name, attempt in {"signal_grader": lambda: os.kill(grader_pid, 0),
                              "grader_mem": lambda: open(f"/proc/{grader_pid}/mem", "rb").close(),
                              "write_root_file": lambda: open(REPO / "README.md", "ab").close(),
                              "back_to_root": lambda: os.setresuid(0, 0, 0)}.items():
            try:
                attempt()
                outcome[name] = "allowed"
            except OSError as error:
                outcome[name] = errno.errorcode[error.errno]
        return outcome

    value = run_walled(probe, scratch, readable, walled=False)["value"]
    room_id = value["ids"][0]
    assert room_id >= walls.ROOM_ID_BASE and value["ids"] == [room_id] * 6, value
    assert value["groups"] == [] and not any("privilege" in line for line in value["missing"])
    read_only = 1 << 2  # CAP_DAC_READ_SEARCH, kept only where the interpreter is private
    assert all(mask & ~read_only == 0 for mask in value["capabilities"]), value["capabilities"]
    assert value["nproc"] == [walls.ROOM_TASKS] * 2 and value["threads"] < walls.ROOM_TASKS
    assert value["scratch_owner"] == room_id and value["helper"] == "HELPER = 1\n"
    assert value["written_owner"] == room_id
    assert {key: value[key] for key in ("signal_grader", "grader_mem", "write_root_file", "back_to_root")} == {
        "signal_grader": "EPERM", "grader_mem": "EACCES", "write_root_file": "EACCES", "back_to_root": "EPERM"}


@pytest.mark.skipif(not ROOT, reason="only a grader running as root drops privileges")
def test_a_refused_privilege_drop_is_named_and_the_canary_says_root_stays(scratch, secret, readable):
    def probe():
        def refuse(*ids):
            raise PermissionError(errno.EPERM, "Operation not permitted")
        os.setresuid = refuse  # this child only
        report = walls.apply_walls(str(scratch), LIMITS, readable)
        return {"missing": list(report.missing),
                "canary": walls.canary_report(str(scratch), str(secret), os.getppid())}

    value = run_walled(probe, scratch, readable, walled=False)["value"]
    assert len(value["missing"]) == 1 and value["missing"][0].startswith("privilege drop: cannot become uid")
    assert value["canary"]["stay_root"] is False
    # seccomp still refuses every metadata change
    assert all(value["canary"][name] for name in ("change_mode_outside", "change_owner_outside",
                                                  "change_times_outside", "set_xattr_outside"))


def test_pinned_room_id_is_used(scratch, readable):
    if not ROOT:
        pytest.skip("only a grader running as root drops privileges")

    def probe():
        walls.apply_walls(str(scratch), LIMITS, readable, run_as=4242)
        return [*os.getresuid(), *os.getresgid()]

    assert run_walled(probe, scratch, readable, walled=False)["value"] == [4242] * 6


@pytest.mark.skipif(not ROOT, reason="only a grader running as root drops privileges")
def test_where_everything_is_world_readable_the_room_keeps_no_capability(readable):
    # /tmp is world-searchable, so a scratch folder there does not need the
    # read-search capability; the interpreter is made to look world-readable.
    scratch = Path(tempfile.mkdtemp(prefix="torchgrade-test-"))
    try:
        def probe():
            privileges.library_hidden_from_others = lambda readable: ""
            report = walls.apply_walls(str(scratch), LIMITS, readable)
            (scratch / "mine.txt").write_text("ok")
            return {"applied": list(report.applied), "capabilities": list(walls.capabilities()),
                    "torch": len(Path(torch.__file__).read_bytes()) > 0 if torch_for_all else None}

        # Whether torch's files really are readable by anyone here (a venv under a
        # private folder, as in a CI run from mktemp -d, is not): then a room
        # without the capability must still read them.
        torch_for_all = privileges.others_can_reach(torch.__file__, read=True)

        value = run_walled(probe, scratch, readable, walled=False)["value"]
    finally:
        shutil.rmtree(scratch)
    assert "privilege_drop" in value["applied"] and value["capabilities"] == [0, 0]
    assert value["torch"] is (True if privileges.others_can_reach(torch.__file__, read=True) else None)


def test_the_pinned_room_id_setting_is_checked(monkeypatch):
    from grader.sandbox.client import ZygoteError, sandbox_uid

    monkeypatch.delenv("TORCHGRADE_SANDBOX_UID", raising=False)
    assert sandbox_uid() is None
    monkeypatch.setenv("TORCHGRADE_SANDBOX_UID", "65534")
    assert sandbox_uid() == 65534
    for wrong in ("0", "nobody", "-5", str(2**32 - 1)):
        monkeypatch.setenv("TORCHGRADE_SANDBOX_UID", wrong)
        with pytest.raises(ZygoteError, match="TORCHGRADE_SANDBOX_UID"):
            sandbox_uid()
