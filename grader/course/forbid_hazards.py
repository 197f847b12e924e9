"""Whole-file conditions under which the walk of forbid_walk.py reads the code that runs.

The walk reads the functions a rule names as the source binds them. That is
the function the grader calls only if nothing rebinds those names behind the
source's back, and the code it reaches is the code that runs only if nothing
is loaded that the source does not show. So a file under a rule (and every
other file of the submission it imports) is refused, wherever in it, for:

- rebinding a name the ruled code reads from a function (``global``), or
  through the module's namespace (``globals()``, ``vars()``, ``setattr``,
  ``sys.modules``, ``__dict__``, a module-level ``__getattr__``), or by
  writing to a module's attributes (``torch.stack = ...``,
  ``exercise2.grad_fn = ...``) or a method's name on a value (``x.sum = f``);
- changing module-level data the ruled code reads (``CACHE["g"] = f``,
  ``CACHE.update(...)``), which the walk reads only as first bound;
- code the source does not show: ``exec``, ``eval``, ``compile``,
  ``__import__``, modules that load code or write files (``os``,
  ``importlib``, ``pickle``, ...), ``open()`` for writing, an import of a
  module that is neither a file of the submission, nor the standard library,
  nor a library the course declares (a module written at run time).

Code that only runs at import may otherwise use anything (a notebook that
checks its answer with autograd): it cannot change what the ruled code runs.

Pure: ``ast`` only.
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Iterator

from grader.course.by_hand import LOADERS_AND_WRITERS, VALUE_ATTRIBUTES
from grader.course.forbid_scopes import ModuleNames, Scope, is_main_guard, under
from grader.course.forbid_walk import UNREADABLE, Use

_NAMESPACE_BUILTINS = frozenset({"globals", "vars", "locals", "setattr", "delattr", "exec", "eval", "compile",
                                 "__import__", "breakpoint", "__builtins__"})
_NAMESPACE_DUNDERS = frozenset({"__dict__", "__globals__", "__code__", "__builtins__", "__getattribute__",
                                "__getattr__", "__setattr__", "__delattr__", "__class__", "__defaults__",
                                "__kwdefaults__", "__closure__", "__wrapped__", "__subclasses__", "__import__",
                                "__loader__", "__spec__", "__self__", "__func__", "f_globals", "f_locals",
                                "f_back", "f_builtins", "gi_frame", "tb_frame"})
_MODULE_HOOKS = frozenset({"__getattr__", "__getattribute__", "__dir__", "__setattr__"})
# Methods that change the value they are called on.
_MUTATORS = frozenset({"append", "extend", "insert", "pop", "remove", "clear", "update", "setdefault", "add",
                       "discard", "popitem", "sort", "reverse", "__setitem__", "__delitem__"})
# Honest settings, not a rewrite of the library.
_SETTINGS = ("torch.backends",)


def hazards(names: ModuleNames, *, file: str, reached: set[str], local_modules: Iterable[str],
            libraries: Iterable[str]) -> Iterator[Use]:
    """Every reason the ruled code of one file may not be the code that runs.
    ``reached``: the module-level names the ruled code reads."""
    local, allowed = frozenset(local_modules), frozenset(libraries)
    for node, within, scope in _every_node(names):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Global):
            yield from _global_hazards(node, within, file, reached)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from _import_hazards(node, within, file, local, allowed)
        elif isinstance(node, ast.Name) and node.id in _NAMESPACE_BUILTINS and names.root.lookup(node.id) is None:
            yield Use(line, f"{node.id}()" if node.id != "__builtins__" else node.id, within, UNREADABLE, file)
        elif isinstance(node, ast.Attribute):
            yield from _attribute_hazards(node, names, scope, within, file)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and within == "<module>" \
                and node.name in _MODULE_HOOKS:
            yield Use(line, f"a module-level {node.name}", within, UNREADABLE, file)
        elif isinstance(node, ast.Call):
            yield from _call_hazards(node, names, within, file, reached)
        if isinstance(node, (ast.Subscript, ast.Attribute)):
            yield from _change_hazards(node, names, within, file, reached)


def _global_hazards(node: ast.Global, within: str, file: str, reached: set[str]) -> Iterator[Use]:
    rebound = sorted(set(node.names) & reached)
    if rebound:
        yield Use(node.lineno, f"global {', '.join(rebound)} (a function rebinds {rebound[0]}, so the grader cannot "
                               "tell which one runs)", within, UNREADABLE, file)


def _change_hazards(node: ast.Subscript | ast.Attribute, names: ModuleNames, within: str, file: str,
                    reached: set[str]) -> Iterator[Use]:
    """A store into (or deletion from) a module-level value the ruled code reads."""
    if isinstance(node.ctx, (ast.Store, ast.Del)):
        base = _base_name(node)
        if base in reached and _is_data(names, base):
            yield Use(node.lineno, f"a change to {base}, which the graded code reads", within, UNREADABLE, file)


def _every_node(names: ModuleNames) -> Iterator[tuple[ast.AST, str, Scope]]:
    """Every node of the file but code under ``if __name__ == "__main__":``,
    with the function it is in and the scope its names are read in."""
    stack: list[tuple[ast.AST, str, Scope]] = [(node, "<module>", names.root) for node in names.tree.body]
    while stack:
        node, within, scope = stack.pop()
        if isinstance(node, ast.If) and is_main_guard(node):
            stack += [(child, within, scope) for child in node.orelse]
            continue
        yield node, within, scope
        inner = getattr(node, "name", within) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) else within
        inner_scope = names.scope_of.get(id(node), scope)
        stack += [(child, inner, inner_scope) for child in ast.iter_child_nodes(node)]


def _import_hazards(node: ast.Import | ast.ImportFrom, within: str, file: str, local: frozenset[str],
                    allowed: frozenset[str]) -> Iterator[Use]:
    if isinstance(node, ast.ImportFrom) and node.level:
        yield Use(node.lineno, f"a relative import ({'.' * node.level}{node.module or ''})", within, UNREADABLE, file)
        return
    modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
    for module in modules:
        top = module.split(".")[0]
        if top == "__future__" or top in local:
            continue
        if top in LOADERS_AND_WRITERS:
            yield Use(node.lineno, f"import {module}, which can load code or write files the source does not show",
                      within, UNREADABLE, file)
        elif top not in allowed and top not in sys.stdlib_module_names:
            yield Use(node.lineno, f"import {module}, which is neither a file of the submission nor a library the "
                                   "course declares", within, UNREADABLE, file)


def _attribute_hazards(node: ast.Attribute, names: ModuleNames, scope: Scope, within: str, file: str) -> Iterator[Use]:
    line = node.lineno
    if node.attr in _NAMESPACE_DUNDERS:
        yield Use(line, node.attr, within, UNREADABLE, file)
    if not isinstance(node.ctx, (ast.Store, ast.Del)):
        return
    bases = names.resolve(node.value, scope)
    changed = sorted(b for b in bases if not under(b, _SETTINGS))
    if changed:
        yield Use(line, f"a change to {changed[0]}.{node.attr}", within, UNREADABLE, file)
    elif node.attr in VALUE_ATTRIBUTES and not (isinstance(node.value, ast.Name) and node.value.id == "self"):
        yield Use(line, f"{ast.unparse(node)[:40]} = ... (it replaces a method every tensor has)", within,
                  UNREADABLE, file)


def _call_hazards(node: ast.Call, names: ModuleNames, within: str, file: str, reached: set[str]) -> Iterator[Use]:
    if isinstance(node.func, ast.Name) and node.func.id == "open" and names.root.lookup("open") is None:
        mode = node.args[1] if len(node.args) > 1 else next((k.value for k in node.keywords if k.arg == "mode"), None)
        if not (mode is None or (isinstance(mode, ast.Constant) and mode.value in ("r", "rt", "rb"))):
            yield Use(node.lineno, "open() for writing", within, UNREADABLE, file)
    if isinstance(node.func, ast.Attribute) and node.func.attr in _MUTATORS:
        base = _base_name(node.func)
        if base in reached and _is_data(names, base):
            yield Use(node.lineno, f"{ast.unparse(node.func)[:40]}(), a change to {base}, which the graded code "
                                   "reads", within, UNREADABLE, file)


def _base_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_data(names: ModuleNames, name: str | None) -> bool:
    """A module-level name bound to a value (not a function, class or import)."""
    origins = names.root.every.get(name or "", [])
    return any(not isinstance(o, (str, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for o in origins)
