"""Tripwires: does a sandbox still look as it did before an exercise ran in it?

A sandbox (a "room") grades one submission's exercises one after another,
so that a class costs one fork per submission instead of one per exercise.
Between two exercises the room compares everything a later exercise's code
could observe with a baseline: torch's global settings and hook stacks, the
namespaces of torch, the standard library and the room's own machinery
(identity of every value, and the code of every Python function in them),
interpreter hooks, threads, signal handlers and timers, open files, the
scratch folder, memory and CPU used. Any difference ("dirt") retires the
room: the next exercise gets a fresh one, as if the previous were absent.

What no tripwire can see is a change made below Python (ctypes writing
memory, a kernel registered into torch's C++ dispatcher). That can only
change answers computed inside this submission's own room, and every answer
is compared outside it, so it can lower this student's marks, never raise
them or touch another submission; ``--isolate exercise`` gives each exercise
its own room for courses that want that guarantee too.

The namespace baseline is taken in the zygote (every room inherits it);
the process baseline in each room, after its walls are up.
"""
from __future__ import annotations

from typing import Any

import gc
import os
import random
import resource
import select
import signal
import _signal
import sys
import threading
import types
import _thread
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from grader.sandbox.untrusted.dict_versions import VERSION_OFFSET, version_reader, versions_readable
from grader.sandbox.untrusted import lazy_dynamo

# Modules whose namespaces a later exercise's code, or the room's own
# serving code, reads: by exact name, or every loaded module under a prefix.
WATCHED_MODULES = (
    "builtins", "math", "cmath", "operator", "functools", "itertools", "random", "copy", "numbers",
    "collections", "types", "json", "struct", "io", "traceback", "importlib", "warnings",
    "multiprocessing.connection", "safetensors", "safetensors.torch",
    "grader.sandbox.wire", "grader.sandbox.untrusted.executor", "grader.sandbox.untrusted.zygote",
    "grader.sandbox.untrusted.tripwires", "grader.sandbox.untrusted.dict_versions",
    "torch", "torch._C", "torch._C._nn", "torch._C._linalg", "torch._C._special", "torch._tensor",
    "torch.functional", "torch.random", "torch.serialization", "torch.overrides", "torch.linalg", "torch.special",
)
WATCHED_PREFIXES = ("torch.nn.", "torch.autograd.", "torch.optim.", "torch.testing.", "torch.func.")
WATCHED_PACKAGES = ("torch.nn", "torch.autograd", "torch.optim", "torch.testing", "torch.func")
# How much memory an exercise may use before the room is retired: the
# allocator may keep what it freed, and the next exercise's memory limit
# counts it (honest exercises use a few MB).
MAX_GROWTH_MB = 64


def watched_modules() -> list[types.ModuleType]:
    names = [*WATCHED_MODULES, *WATCHED_PACKAGES,
             *(n for n in list(sys.modules) if n.startswith(WATCHED_PREFIXES))]
    return [m for m in (sys.modules.get(n) for n in names) if isinstance(m, types.ModuleType)]


def _namespaces(modules: list[types.ModuleType]) -> list[tuple[str, Mapping[str, object]]]:
    """Each watched module's dict, and the dict of every class it defines."""
    spaces: list[tuple[str, Mapping[str, object]]] = []
    for module in modules:
        namespace = vars(module)
        spaces.append((module.__name__, namespace))
        for value in list(namespace.values()):
            if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__:
                spaces.append((f"{module.__name__}.{value.__qualname__}", value.__dict__))
    return spaces


_TORCH_SWITCHES: tuple[tuple[str, Callable[[], object]], ...] = (
    ("default dtype", torch.get_default_dtype),
    ("default device", lambda: str(torch.get_default_device())),  # torch >= 2.3
    ("grad mode", torch.is_grad_enabled),
    ("inference mode", torch.is_inference_mode_enabled),
    ("anomaly detection", torch.is_anomaly_enabled),
    ("deterministic algorithms", torch.are_deterministic_algorithms_enabled),
    ("threads", torch.get_num_threads),
    ("float32 matmul precision", torch.get_float32_matmul_precision),
    ("torch function modes", lambda: torch._C._len_torch_function_stack()),
    ("torch dispatch modes", lambda: torch._C._len_torch_dispatch_stack()),
    ("saved tensor hooks", lambda: torch._C._autograd._top_saved_tensors_default_hooks(False) is not None),
)


def torch_settings() -> tuple[tuple[str, object], ...]:
    """Torch's process-wide switches and hook stacks, as comparable values
    (one this torch lacks reads as "unknown" on both sides of a comparison)."""
    settings = [(name, _read(getter)) for name, getter in _TORCH_SWITCHES]
    for module_name, kind in _HOOK_MODULES:
        module = sys.modules.get(module_name)
        if module is not None:
            namespace = vars(module)
            settings += [(label, len(value)) for label, name in _hook_stacks(module_name, kind, namespace)
                         if isinstance(value := namespace.get(name), dict)]
    return tuple(settings)


_HOOK_MODULES = (("torch.nn.modules.module", "module"), ("torch.optim.optimizer", "optimizer"))
_hook_names: dict[str, tuple[tuple[str, str], ...]] = {}  # module name -> (label, name) of each global hook stack


def _hook_stacks(module_name: str, kind: str, namespace: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """The module's global hook stacks (``_global_*`` dicts), found once (in the
    zygote, for the baseline): going through the whole namespace in a room
    would write the reference count of everything in it, copying ~250 pages.
    A stack added later is a change the namespace check reports."""
    if module_name not in _hook_names:
        _hook_names[module_name] = tuple((f"global {kind} hooks {name}", name) for name, value in namespace.items()
                                         if name.startswith("_global_") and isinstance(value, dict))
    return _hook_names[module_name]


def _read(getter: Callable[[], object]) -> object:
    try:
        return getter()
    except (AttributeError, TypeError, RuntimeError):
        return "unknown"


def interpreter_hooks() -> tuple[tuple[str, object], ...]:
    """Hooks through which code keeps running after it returned."""
    return (
        ("sys.settrace", sys.gettrace()), ("sys.setprofile", sys.getprofile()),
        ("threading.settrace", getattr(threading, "_trace_hook", None)),
        ("threading.setprofile", getattr(threading, "_profile_hook", None)),
        ("sys.excepthook", sys.excepthook), ("sys.unraisablehook", sys.unraisablehook),
        ("sys.displayhook", sys.displayhook), ("sys.breakpointhook", sys.breakpointhook),
        ("sys.meta_path", tuple(sys.meta_path)), ("sys.path_hooks", tuple(sys.path_hooks)),
        ("recursion limit", sys.getrecursionlimit()), ("switch interval", sys.getswitchinterval()),
        ("gc enabled", gc.isenabled()), ("gc thresholds", gc.get_threshold()), ("gc callbacks", tuple(gc.callbacks)),
        ("warnings filters", tuple(warnings.filters)), ("warnings.showwarning", warnings.showwarning),
        ("async generator hooks", tuple(sys.get_asyncgen_hooks())),
        ("a function, class or object rewritten in place", _audited[0]),
        ("audit hooks", _audited[1]),
    )


# What the audit hook below saw: assignments that rewrite an existing object
# in place (a function's code or defaults, a class's bases, an object's
# class), which no namespace comparison can see, and audit hooks added.
# A list, so that counting never rebinds a name in this watched module.
_REWRITES = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__bases__", "__class__"})
_audited = [0, 0]  # rewrites, audit hooks added


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "object.__setattr__":
        if len(args) > 1 and args[1] in _REWRITES:
            _audited[0] += 1
    elif event == "sys.addaudithook":
        _audited[1] += 1


@dataclass(frozen=True)
class NamespaceBaseline:
    """Taken once in the zygote; forked rooms compare themselves with it.

    Comparing ~25,000 values would touch (and so copy, in a forked room)
    thousands of pages. Instead each namespace's dict version tag (PEP 509,
    read in place, CPython 3.10-3.13; checked to work before it is trusted)
    says whether it changed at all, and only a changed one is compared.
    """

    # where, dict, its keys, its values
    spaces: tuple[tuple[str, dict[str, Any], tuple[Any, ...], tuple[Any, ...]], ...]
    # Where each dict's version tag lives, and its value, or None where they
    # cannot be read. Addresses, not the dicts: iterating over the dicts would
    # write their reference counts, and so copy hundreds of pages per room.
    addresses: tuple[int, ...] | None
    versions: tuple[int, ...] | None
    read_versions: Callable[[], tuple[int, ...]] | None  # the tags at ``addresses``, now (``dict_versions``)
    modules: tuple[tuple[str, types.ModuleType], ...]
    settings: tuple[tuple[str, object], ...]
    hooks: tuple[tuple[str, object], ...]
    dynamo: object  # sys.modules["torch._dynamo"]: lazy_dynamo's stand-in, unless something loaded the real one

    @classmethod
    def take(cls) -> "NamespaceBaseline":
        if not getattr(sys, "_torchgrade_audit", False):  # an audit hook cannot be removed: add ours once
            sys.addaudithook(_audit)
            sys._torchgrade_audit = True  # type: ignore[attr-defined]
        modules = watched_modules()
        spaces = [(where, d) for where, d in ((w, _underlying_dict(n)) for w, n in _namespaces(modules))
                  if d is not None]
        addresses = tuple(id(d) + VERSION_OFFSET for _, d in spaces) if versions_readable() else None
        read_versions = version_reader(addresses) if addresses is not None else None
        return cls(
            spaces=tuple((where, d, tuple(d), tuple(d.values())) for where, d in spaces),
            addresses=addresses,
            versions=read_versions() if read_versions is not None else None,
            read_versions=read_versions,
            modules=tuple((m.__name__, m) for m in modules),
            settings=torch_settings(),
            hooks=interpreter_hooks(),
            dynamo=sys.modules.get(lazy_dynamo.NAME),
        )

    def dirt(self) -> list[str]:
        if isinstance(self.dynamo, lazy_dynamo.DynamoStandIn) and sys.modules.get(lazy_dynamo.NAME) is not self.dynamo:
            # The real module rebinds names in torch (torch.manual_seed...) and warnings filters as it loads: one
            # reason, not its list. The room is retired all the same, whoever put something there.
            return ["torch._dynamo was loaded or replaced (torch.compile loads it, and it changes torch)"]
        found = [f"torch's {name} changed"
                 for (name, before), (_, now) in zip(self.settings, torch_settings(), strict=False)
                 if before != now]
        found += [f"{name} changed" for (name, before), (_, now) in zip(self.hooks, interpreter_hooks(), strict=False)
                  if not _same(before, now)]
        found += [f"sys.modules[{name!r}] was replaced" for name, module in self.modules
                  if sys.modules.get(name) is not module]
        if self.addresses is None or self.read_versions is None:
            suspects = self.spaces
        else:
            now = self.read_versions()
            pairs = enumerate(zip(self.versions or (), now, strict=False))
            suspects = tuple(self.spaces[i] for i, (before, after) in pairs
                             if before != after)
        for where, namespace, keys, values in suspects:
            changed = _changed_keys(namespace, keys, values)
            if changed:
                found.append(f"{where} was changed ({', '.join(changed[:3])})")
        return found


def _underlying_dict(namespace: Any) -> dict[str, Any] | None:
    """A class's ``__dict__`` is a read-only proxy: the dict behind it."""
    if isinstance(namespace, dict):
        return namespace
    return next((r for r in gc.get_referents(namespace) if isinstance(r, dict)), None)


def _same(before: object, now: object) -> bool:
    """Identity, except for plain values (which may be equal copies)."""
    if type(before) is tuple and type(now) is tuple:
        return len(before) == len(now) and all(map(_same, before, now))
    return before is now or (type(before) in _PLAIN and type(now) is type(before) and before == now)


_PLAIN = (int, float, bool, str)


def _changed_keys(namespace: dict[str, Any], keys: tuple[Any, ...], values: tuple[Any, ...]) -> list[str]:
    """Keys removed or rebound; a key added is dirt unless it is a submodule
    (importing ``torch.distributions`` adds it to ``torch``'s namespace)."""
    changed = [key for key, value in zip(keys, values, strict=False) if namespace.get(key, _MISSING) is not value]
    known = set(keys)
    changed += [key for key, value in list(namespace.items())
                if key not in known and not isinstance(value, types.ModuleType) and key != "__warningregistry__"]
    return [str(key) for key in changed]


_MISSING = object()


@dataclass(frozen=True)
class RoomBaseline:
    """The room's own process state, taken after its walls went up."""

    scratch: str
    cwd: str
    environ: dict[str, str]
    threads: int
    fds: tuple[int, ...]
    signals: tuple[object, ...]
    itimers: tuple[tuple[float, float], ...]
    sigmask: frozenset[Any]
    files: tuple[tuple[str, int, int], ...]
    peak_memory: int
    streams: tuple[object, object, object]
    modules: int  # how many sys.modules held (new ones are appended: dicts keep order)
    torch_rng: torch.Tensor
    python_rng: tuple[Any, ...]

    @classmethod
    def take(cls, scratch: str) -> "RoomBaseline":
        return cls(scratch=scratch, cwd=os.getcwd(), environ=dict(os.environ), threads=_threads(), fds=_fds(),
                   signals=_signal_handlers(), itimers=_itimers(), sigmask=_sigmask(), files=_files(scratch),
                   peak_memory=_peak_memory(), streams=(sys.stdin, sys.stdout, sys.stderr),
                   modules=len(sys.modules), torch_rng=torch.random.get_rng_state(),
                   python_rng=random.getstate())

    def restore_random_state(self) -> None:
        """Every exercise starts from the same random state, as in a fresh room."""
        torch.random.set_rng_state(self.torch_rng)
        random.setstate(self.python_rng)

    def dirt(self, *, cpu_limit_s: float, cpu_needed_s: float, memory_mb: int) -> list[str]:
        """What changed since the room was walled in. ``cpu_needed_s``: what the
        next exercise must still have under the room's ``cpu_limit_s``."""
        return [*self._process_changes(),
                *self._overuse(cpu_limit_s=cpu_limit_s, cpu_needed_s=cpu_needed_s, memory_mb=memory_mb),
                *self._module_changes()]

    def _process_changes(self) -> list[str]:
        streams = (sys.stdin, sys.stdout, sys.stderr)
        changes = (
            (os.getcwd() != self.cwd, "the working directory changed"),
            (dict(os.environ) != self.environ, "environment variables changed"),
            (_threads() != self.threads, "a thread is still running"),
            (_fds() != self.fds, "files were left open"),
            (_signal_handlers() != self.signals, "a signal handler was installed"),
            (_itimers() != self.itimers, "a timer (alarm, setitimer) is set"),
            (_sigmask() != self.sigmask, "signals were blocked"),
            (_files(self.scratch) != self.files, "files in the scratch folder were written or removed"),
            (any(now is not before for now, before in zip(streams, self.streams, strict=False)),
             "sys.stdin/stdout/stderr were replaced"),
        )
        return [what for changed, what in changes if changed]

    def _overuse(self, *, cpu_limit_s: float, cpu_needed_s: float, memory_mb: int) -> list[str]:
        found = []
        allowed_mb = min(MAX_GROWTH_MB, memory_mb // 4)
        if _peak_memory() - self.peak_memory > allowed_mb << 20:
            found.append(f"the exercise used more than {allowed_mb} MB of memory")
        if cpu_limit_s - sum(os.times()[:2]) < cpu_needed_s:
            found.append("too much CPU time was used for another exercise to run here")
        return found

    def _module_changes(self) -> list[str]:
        found = []
        if len(sys.modules) < self.modules:
            found.append("modules were removed from sys.modules")
        planted = [name for name, module in self._new_modules() if not _importable_module(module, name)]
        if planted:
            found.append(f"a module was planted in sys.modules ({', '.join(sorted(planted)[:3])})")
        return found

    def forget_student_modules(self, names: tuple[str, ...]) -> None:
        """Drop the exercise's module and every module imported from scratch,
        so the next exercise imports its own fresh copies (as in a fresh room)."""
        for name, module in self._new_modules():
            file = getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None
            if name in names or (isinstance(file, str) and _within(file, self.scratch)):
                del sys.modules[name]

    def _new_modules(self) -> list[tuple[str, object]]:
        """Modules imported since the room started, newest first (read from the
        end, so that the thousand modules of torch are not touched)."""
        count = len(sys.modules) - self.modules
        newest = list(zip(reversed(sys.modules), range(max(0, count)), strict=False))
        return [(name, sys.modules[name]) for name, _ in newest]


def _importable_module(module: object, name: str = "") -> bool:
    """A module the interpreter itself could have put at ``name`` in sys.modules:
    one imported from the standard library or site-packages (a file there, a
    built-in, or a namespace package of folders there), or a module that such
    a module made and keeps as an attribute when it is not a package
    (``pyexpat.errors``, ``typing.io``: nothing could be imported from disk
    under that name, so nothing is shadowed). A library's own imports are
    never the student's change to the sandbox; a module planted anywhere else
    is."""
    if isinstance(module, types.ModuleType):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if origin in ("built-in", "frozen"):
            return True
        file = getattr(module, "__file__", None)
        if isinstance(file, str):
            return _installed(file)
        if _namespace_package(module, name):
            return True
    return _made_by_its_parent(module, name)


def _installed(path: str) -> bool:
    return _within(path, sys.base_prefix) or _within(path, sys.prefix)


def _namespace_package(module: types.ModuleType, name: str) -> bool:
    """A namespace package the import system would make: each of its folders
    installed, named as it is, and without an ``__init__.py``."""
    locations = getattr(getattr(module, "__spec__", None), "submodule_search_locations", None)
    if locations is None or getattr(module, "__file__", None) is not None:
        return False
    folders = [str(folder) for folder in list(locations)]
    last = name.rpartition(".")[2]
    return bool(folders) and all(
        _installed(folder) and os.path.basename(folder.rstrip(os.sep)) == last
        and os.path.isdir(folder) and not os.path.exists(os.path.join(folder, "__init__.py"))
        for folder in folders)


def _made_by_its_parent(module: object, name: str) -> bool:
    parent_name, _, last = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if not isinstance(parent, types.ModuleType) or hasattr(parent, "__path__"):
        return False  # a package's submodules are imported from disk: one set by hand would shadow one
    return getattr(parent, last, None) is module and _importable_module(parent, parent_name)


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# A walled room cannot read /proc, so these ask the interpreter and libc.
def _threads() -> int:
    """Threads started from Python (``threading`` and ``_thread`` alike)."""
    return _thread._count()


def _fds() -> tuple[int, ...]:
    """The open file descriptors below the room's limit on them, in one
    poll(2): a closed descriptor answers POLLNVAL."""
    limit = min(resource.getrlimit(resource.RLIMIT_NOFILE)[0], 4096)
    poller = select.poll()
    for fd in range(limit):
        poller.register(fd, 0)
    closed = {fd for fd, events in poller.poll(0) if events & select.POLLNVAL}
    return tuple(fd for fd in range(limit) if fd not in closed)


def _peak_memory() -> int:
    """The most memory the room has held at once (its peak resident set):
    an exercise that needed a lot may have left the allocator holding it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss << 10


# Listed once, in the zygote (as enums, ``valid_signals`` costs a room ~0.1 ms a call).
_CATCHABLE_SIGNALS = tuple(int(s) for s in signal.valid_signals() if s not in (signal.SIGKILL, signal.SIGSTOP))


def _signal_handlers() -> tuple[object, ...]:
    """Each catchable signal's handler, as ``_signal`` keeps it (``signal.getsignal``
    would wrap each in an enum: ten times the cost, for the same comparison)."""
    return tuple(map(_signal.getsignal, _CATCHABLE_SIGNALS))


def _itimers() -> tuple[tuple[float, float], ...]:
    return tuple(signal.getitimer(which) for which in (signal.ITIMER_REAL, signal.ITIMER_VIRTUAL, signal.ITIMER_PROF))


def _sigmask() -> frozenset[Any]:
    return frozenset(signal.pthread_sigmask(signal.SIG_BLOCK, []))


def _files(scratch: str) -> tuple[tuple[str, int, int], ...]:
    found = []
    for folder, subfolders, names in os.walk(scratch):
        subfolders.sort()
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                stat = os.lstat(path)
            except OSError:
                continue
            found.append((os.path.relpath(path, scratch), stat.st_size, stat.st_mtime_ns))
        if len(found) > 1000:
            break
    return tuple(found)


