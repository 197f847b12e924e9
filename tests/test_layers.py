"""The layers of the house, read from the imports: the untrusted package stands
alone, the torch-free layers stay torch-free, and no module imports itself
back through others. Each test fails when someone adds such an import."""
from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "grader"
UNTRUSTED = "grader.sandbox.untrusted"
# What the code that runs beside student code may import from the grader.
UNTRUSTED_MAY_IMPORT = {"grader", "grader.sandbox", "grader.sandbox.wire", "grader.sandbox.limits"}
# Layers that must not import torch when imported (the CLI answers --help at once,
# the batch controller and the report writers never need it).
TORCH_FREE = ["grader.cli", "grader.engine.session", "grader.options", "grader.errors", "grader.results",
              "grader.status", "grader.scoring",
              "grader.verdicts", "grader.course", "grader.outputs", "grader.record",
              "grader.similarity",
              "grader.commands.batch.cluster"]  # the cluster's client (its workers import torch when they grade)
# The two kinds of batch worker: a local worker process, and a Dask worker's plugin and task.
BATCH_WORKERS = ["grader.commands.batch.worker", "grader.commands.batch.cluster_worker"]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imported(path: Path, name: str) -> Iterator[tuple[str, bool]]:
    """(module imported, at module level?) for each import in the file, those
    under ``if TYPE_CHECKING:`` too: an annotation's import is an arrow of the
    house like any other, and a cycle through one is still a cycle."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                yield from ((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - child.level + 1] +
                                    ([base] if base else []))
                yield base, top
                for alias in child.names:  # `from grader.engine import runner` imports a module
                    yield f"{base}.{alias.name}", top
            else:
                inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
                yield from visit(child, inner)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), True)


def graph(*, top_level_only: bool) -> dict[str, set[str]]:
    known = modules()
    return {name: {target for target, top in imported(path, name)
                   if target in known and target != name and (top or not top_level_only)}
            for name, path in known.items()}


def test_the_untrusted_package_imports_only_the_wire_and_the_limits():
    edges = graph(top_level_only=False)
    offending = {name: sorted(t for t in targets if not t.startswith(UNTRUSTED) and t not in UNTRUSTED_MAY_IMPORT)
                 for name, targets in edges.items() if name.startswith(UNTRUSTED)}
    assert {name: bad for name, bad in offending.items() if bad} == {}
    assert any(name.startswith(UNTRUSTED) for name in edges)  # the rule has something to look at


def test_no_import_cycles_anywhere():
    edges = graph(top_level_only=False)
    cycles = []
    state: dict[str, int] = {}  # 1 on the stack, 2 done

    def walk(node: str, stack: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges[node]):
            if target.startswith(node + "."):  # a package importing its own modules
                continue
            if state.get(target) == 1 and not node.startswith(target + "."):
                cycles.append(stack[stack.index(target):] + [target])
            elif target not in state:
                walk(target, stack + [target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            walk(node, [node])
    assert cycles == []


def test_commands_live_in_commands_and_nothing_below_imports_them():
    """Arrows run one way: a command may use the record, the course, the outputs, never the reverse
    (the class book and the tally are views of the record; `grade history` and friends are commands)."""
    edges = graph(top_level_only=False)
    upward = {name: sorted(t for t in targets if t.startswith("grader.commands"))
              for name, targets in edges.items()
              if not name.startswith("grader.commands") and name not in ("grader.cli", "grader.__main__")}
    assert {name: targets for name, targets in upward.items() if targets} == {}
    assert not any(name.endswith(".commands") for name in edges if name != "grader.commands")


@pytest.mark.parametrize("layer", TORCH_FREE)
def test_the_torch_free_layers_import_no_torch(layer):
    names = [name for name in modules() if name == layer or name.startswith(layer + ".")]
    probe = ("import sys\n"
             f"for name in {names!r}:\n"
             "    __import__(name)\n"
             "    assert 'torch' not in sys.modules, name + ' imported torch'\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                          cwd=PACKAGE.parent)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize("worker", BATCH_WORKERS)
def test_the_batch_worker_imports_nothing_of_its_controller(worker):
    """Like pytest-xdist's remote.py: everything the worker can ever import (its
    lazy imports too, and theirs) leaves out the controller, the cluster's client and the display."""
    edges = graph(top_level_only=False)
    reached, todo = set(), [worker]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(edges[name])
    controller_side = {"grader.commands.batch.controller", "grader.commands.batch.cluster",
                       "grader.commands.batch.progress", "grader.cli"}
    assert reached & controller_side == set()
    assert "grader.record.classbook" in reached  # the walk does follow the worker's imports


def test_the_batch_worker_boots_without_the_controller():
    """The worker's own boot line, with the call to main left out: what it has
    imported by then is all of the grader it starts from."""
    from grader.commands.batch.worker import BOOT

    importing, _, call = BOOT.rpartition("; raise SystemExit(main())")
    assert call == "" and "main" in importing
    probe = importing + "; print(sorted(m for m in sys.modules if m.startswith(('grader', 'torch'))))"
    done = subprocess.run([sys.executable, "-I", "-c", probe, str(PACKAGE.parent)], capture_output=True, text=True,
                          timeout=60, cwd=PACKAGE.parent.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = set(ast.literal_eval(done.stdout.strip()))
    assert "grader.commands.batch.worker" in loaded
    assert not loaded & {"grader.commands.batch.controller", "grader.commands.batch.progress", "torch"}


def test_only_the_grading_session_imports_the_runner():
    """"Zygote first" is held in one place: every command reaches the runner through a GradingSession,
    which imports it only once its zygote runs (ARCHITECTURE.md)."""
    importers = sorted(name for name, path in modules().items()
                       if any(target == "grader.engine.runner" or target.startswith("grader.engine.runner.")
                              for target, _ in imported(path, name)))
    assert importers == ["grader.engine.session"]
