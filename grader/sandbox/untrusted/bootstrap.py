"""How the zygote starts without learning where the grader lives.

The grader runs ``python -I -c <a few words>`` with a scrubbed environment
and ``/`` as working directory, and writes one JSON bundle to its stdin: this
file's source, the control socket's descriptor, and the sources of the
modules the untrusted side is made of (``grader.sandbox.wire``, ``limits``
and ``untrusted/``). They are imported from memory under made-up file names
(``<torchgrade>/grader/...``), so no ``sys.argv``, ``sys.path`` entry,
module ``__file__``, code object or working directory in the zygote, or in
any sandbox forked from it, names the grader's or the course's folder.

Runs as the ``-c`` program's ``exec`` with ``BUNDLE`` defined; imports only
the standard library itself.
"""
from __future__ import annotations

import gc
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from typing import Any

ORIGIN_PREFIX = "<torchgrade>/"


class BundleImporter(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports the bundled modules (name -> (source, is a package)) from memory."""

    def __init__(self, modules: dict[str, tuple[str, bool]]) -> None:
        self.modules = modules

    def find_spec(self, name: str, _path: Any = None, _target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name not in self.modules:
            return None
        _, package = self.modules[name]
        return importlib.util.spec_from_loader(name, self, origin=_origin(name, package), is_package=package)

    def create_module(self, _spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: types.ModuleType) -> None:
        source, package = self.modules[module.__name__]  # the name of the spec find_spec made
        origin = module.__file__ = _origin(module.__name__, package)
        exec(compile(source, origin, "exec", dont_inherit=True), module.__dict__)  # noqa: S102 - our own code


def _origin(name: str, package: bool) -> str:
    return ORIGIN_PREFIX + name.replace(".", "/") + ("/__init__.py" if package else ".py")


def boot(bundle: dict[str, Any]) -> None:
    # The bundle came on stdin: a zygote (and its sandboxes) read nothing more from it.
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    modules = {name: (entry["source"], entry["package"]) for name, entry in bundle["modules"].items()}
    sys.meta_path.insert(0, BundleImporter(modules))
    # No cyclic collection while torch and the warm-up are imported (~0.3 s of a 1.3 s import here, ~0.4 s of
    # torch._dynamo's): the zygote collects once, freezes, and turns it back on before its first fork (_settle).
    gc.disable()
    from grader.sandbox.untrusted import zygote  # noqa: PLC0415 - only through the importer above

    zygote.main(bundle["control_fd"], huge_pages=bundle.get("huge_pages", True))


if __name__ == "torchgrade_boot":
    boot(BUNDLE)  # type: ignore[name-defined]  # noqa: F821 - defined by the -c program that runs this source
