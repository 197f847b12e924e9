"""The code a rule reaches, walked against what the rule allows.

From each function a rule names, the walk follows every name its code refers
to: the file's own functions and classes, its module-level names (every
binding they ever had), and the submission's other files it imports. Every
library name, attribute, decorator and call on the way must be on the rule's
allow-list (grader/course/by_hand.py); what the rule forbids outright is named
as such, anything else off the list as outside it, and what cannot be read
from the source (a call of a value that no name shows) as unreadable.

Pure: ``ast`` only.
"""
from __future__ import annotations

from typing import Any

import ast
import builtins
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from grader.course.by_hand import DECORATORS, Vocabulary
from grader.course.forbid_scopes import (ModuleNames, Scope, constant_string, is_main_guard, name_of,
                                         without_docstring)

FORBIDDEN, OUTSIDE, UNREADABLE = "forbidden", "outside", "unreadable"
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


@dataclass(frozen=True)
class Use:
    """One use found: what, where (line of ``file``, ``within`` a function) and its category."""

    line: int
    what: str
    within: str
    category: str
    file: str = ""  # "" for the exercise's own file, else "helpers.py"


@dataclass(frozen=True)
class Denied:
    """What a kind of rule forbids outright, to name it as such (a use off the allow-list is refused anyway)."""

    modules: tuple[str, ...]
    attributes: frozenset[str]
    keywords: frozenset[str]
    assigned: frozenset[str]


@dataclass
class Submission:
    """The parsed files a walk may enter: the exercise's module and the submission's other files."""

    modules: Mapping[str, ModuleNames]  # by module name: "exercise2", "helpers"
    main: str
    unread: frozenset[str] = frozenset()  # other files of the submission that could not be parsed
    reached: dict[str, set[str]] = field(default_factory=dict)  # module-level names read by ruled code

    def is_local(self, module: str) -> bool:
        return module in self.modules or module in self.unread

    def file_of(self, module: str) -> str:
        return "" if module == self.main else f"{module}.py"


class Walker:
    """Walks the code reached from the functions of one rule."""

    def __init__(self, submission: Submission, vocabulary: Vocabulary, denied: Denied) -> None:
        self.submission, self.vocabulary, self.denied = submission, vocabulary, denied

    def uses_from(self, function: str) -> Iterator[Use]:
        main = self.submission.main
        names = self.submission.modules[main]
        head, _, method = function.partition(".")
        self.submission.reached.setdefault(main, set()).add(head)
        work: list[tuple[ast.AST, Scope, str, str]] = []
        for origin in names.root.names.get(head, []):
            if isinstance(origin, str):
                yield from self._path_use(origin, 1, function, main, work)
            elif isinstance(origin, (*_DEFINITIONS,)):
                work.append((origin, names.root, function, main))
            else:  # grad_fn = <expression>: the grader calls what it evaluates to
                line = getattr(origin, "lineno", 1)
                if not self._nameable(origin, names.root, names):
                    yield Use(line, f"{head} = {ast.unparse(origin)[:40]}, not a function the file defines",
                              "<module>", UNREADABLE, self.submission.file_of(main))
                work.append((origin, names.root, function, main))
        done: set[int] = set()
        while work:
            node, scope, within, module = work.pop()
            if id(node) not in done:
                done.add(id(node))
                yield from self._walk(node, scope, within, module, work)

    # -- one piece of code --------------------------------------------------------
    def _walk(self, root: ast.AST, scope: Scope, within: str, module: str, work: list[Any]) -> Iterator[Use]:
        names = self.submission.modules[module]
        stack: list[tuple[ast.AST, Scope, str]] = [(root, scope, within)]
        while stack:
            node, scope, within = stack.pop()
            if isinstance(node, _DEFINITIONS):
                yield from self._definition_uses(node, scope, within, module)
                inner = names.scope_of.get(id(node)) or names._new_scope(node, scope)
                outer: list[ast.AST] = [] if isinstance(node, ast.Lambda) else [*node.decorator_list]
                if isinstance(node, ast.ClassDef):
                    outer += node.bases
                else:
                    outer += [*node.args.defaults, *filter(None, node.args.kw_defaults)]
                stack += [(child, scope, within) for child in outer]
                body = [node.body] if isinstance(node, ast.Lambda) else without_docstring(node.body)
                inner_name = within if isinstance(node, ast.Lambda) else node.name
                stack += [(child, inner, inner_name) for child in body]
                continue
            if isinstance(node, ast.If) and is_main_guard(node):
                stack += [(child, scope, within) for child in node.orelse]
                continue
            yield from self._node_uses(node, scope, within, module, work)
            stack += [(child, scope, within) for child in ast.iter_child_nodes(node)]

    def _definition_uses(self, node: ast.AST, scope: Scope, within: str, module: str) -> Iterator[Use]:
        names, file = self.submission.modules[module], self.submission.file_of(module)
        for decorator in getattr(node, "decorator_list", []):
            paths = names.resolve(decorator.func if isinstance(decorator, ast.Call) else decorator, scope)
            if not paths or not paths <= DECORATORS:
                yield Use(decorator.lineno, f"@{ast.unparse(decorator)[:40]}, a decorator (it may replace the "
                                            "function the grader calls)", within, UNREADABLE, file)
        if isinstance(node, ast.ClassDef) and node.keywords:
            yield Use(node.lineno, f"class {node.name}({ast.unparse(node.keywords[0])[:40]})", within, UNREADABLE,
                      file)

    def _node_uses(self, node: ast.AST, scope: Scope, within: str, module: str, work: list[Any]) -> Iterator[Use]:
        line, file = getattr(node, "lineno", 0), self.submission.file_of(module)
        names = self.submission.modules[module]
        if isinstance(node, (ast.Global, ast.Nonlocal)):
            kind = "global" if isinstance(node, ast.Global) else "nonlocal"
            yield Use(line, f"{kind} {', '.join(node.names)}", within, UNREADABLE, file)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from self._import_uses(node, within, module, work)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            yield from self._name_uses(node, scope, within, module, work)
        elif isinstance(node, ast.Attribute):
            yield from self._attribute_uses(node, scope, within, module, work)
        elif isinstance(node, ast.Call):
            for keyword in node.keywords:
                if keyword.arg in self.denied.keywords and not (isinstance(keyword.value, ast.Constant)
                                                                and keyword.value.value is False):
                    yield Use(line, f"{keyword.arg}={ast.unparse(keyword.value)[:40]}", within, FORBIDDEN, file)
            if not self._nameable(node.func, scope, names):
                yield Use(line, f"a call of {ast.unparse(node.func)[:40]}, a value no name in the source shows",
                          within, UNREADABLE, file)

    def _name_uses(self, node: ast.Name, scope: Scope, within: str, module: str, work: list[Any]) -> Iterator[Use]:
        names, line = self.submission.modules[module], node.lineno
        found = scope.lookup(node.id, every=True)
        if found is None:
            if node.id.startswith("__"):  # __builtins__, __loader__, __spec__: the interpreter's insides
                yield Use(line, node.id, within, OUTSIDE, self.submission.file_of(module))
            elif hasattr(builtins, node.id):
                yield from self._path_use(f"builtins.{node.id}", line, within, module, work)
            for star in names.star_imports:
                yield from self._path_use(f"{star}.{node.id}", line, within, module, work)
            return
        owner, origins = found
        if owner is names.root:
            self.submission.reached.setdefault(module, set()).add(node.id)
        for origin in origins:
            if isinstance(origin, str):
                yield from self._path_use(origin, line, within, module, work)
            elif owner is names.root:  # a function's own names are walked with it
                work.append((origin, owner, name_of(origin, "<module>"), module))

    def _attribute_uses(self, node: ast.Attribute, scope: Scope, within: str, module: str,
                        work: list[Any]) -> Iterator[Use]:
        names, line, file = self.submission.modules[module], node.lineno, self.submission.file_of(module)
        paths = names.resolve(node, scope)
        stored = isinstance(node.ctx, (ast.Store, ast.Del))
        if paths:
            for path in sorted(paths):
                if stored:
                    yield Use(line, f"a change to {path}", within, UNREADABLE, file)
                else:
                    yield from self._path_use(path, line, within, module, work)
            return
        attribute, on_self = node.attr, isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        denied = attribute in self.denied.attributes
        if stored and attribute in self.denied.assigned:
            yield Use(line, f".{attribute} = ...", within, FORBIDDEN, file)
        elif attribute.startswith("__") or (on_self and attribute.startswith("_") and attribute.endswith("_")):
            yield Use(line, f".{attribute}", within, FORBIDDEN if denied else OUTSIDE, file)
        elif on_self:
            return  # the class's own attributes, set by its walked code
        elif stored and attribute not in self.vocabulary.stores:
            yield Use(line, f".{attribute} = ...", within, FORBIDDEN if denied else OUTSIDE, file)
        elif not stored and attribute not in self.vocabulary.attributes:
            yield Use(line, f".{attribute}", within, FORBIDDEN if denied else OUTSIDE, file)

    def _import_uses(self, node: ast.Import | ast.ImportFrom, within: str, module: str,
                     work: list[Any]) -> Iterator[Use]:
        file = self.submission.file_of(module)
        if isinstance(node, ast.ImportFrom) and node.level:
            yield Use(node.lineno, f"a relative import ({'.' * node.level}{node.module or ''})", within,
                      UNREADABLE, file)
            return
        base = node.module + "." if isinstance(node, ast.ImportFrom) and node.module else ""
        for alias in node.names:
            path = (base + alias.name) if alias.name != "*" else base.rstrip(".")
            yield from self._path_use(path, node.lineno, within, module, work)

    # -- names of libraries and of the submission's files -------------------------------
    def _path_use(self, path: str, line: int, within: str, module: str, work: list[Any]) -> Iterator[Use]:
        top, _, rest = path.partition(".")
        file = self.submission.file_of(module)
        if self.submission.is_local(top):
            yield from self._local_use(top, rest, line, within, module, work)
        elif _denied_path(path, self.denied.modules) or (path.rpartition(".")[2] in self.denied.attributes
                                                        and top in ("torch", "functorch")):
            yield Use(line, path, within, FORBIDDEN, file)
        elif not self.vocabulary.allows_path(path):
            shown = f"{path.removeprefix('builtins.')}()" if top == "builtins" else path
            yield Use(line, shown, within, OUTSIDE, file)

    def _local_use(self, other: str, rest: str, line: int, within: str, module: str,
                   work: list[Any]) -> Iterator[Use]:
        if other in self.submission.unread:
            yield Use(line, f"{other}.py, another file of the submission that cannot be read", within, UNREADABLE,
                      self.submission.file_of(module))
            return
        if not rest:
            return  # the module itself, as a value: its names are followed where they are used
        names = self.submission.modules[other]
        head = rest.split(".")[0]
        self.submission.reached.setdefault(other, set()).add(head)
        for origin in names.root.every.get(head, []):
            if isinstance(origin, str):
                yield from self._path_use(origin, line, within, other, work)
            else:
                work.append((origin, names.root, f"{name_of(origin, head)} in {other}.py", other))

    def _nameable(self, node: ast.AST, scope: Scope, names: ModuleNames, depth: int = 0) -> bool:
        """``node`` evaluates to something a name in the source shows: a listed
        library function, one of the submission's functions or classes, a
        method of a value (its name is checked), or a lambda."""
        if depth > 8:
            return False
        if isinstance(node, (ast.Attribute, ast.Lambda, *_DEFINITIONS)):
            return True
        if isinstance(node, (ast.IfExp,)):
            return all(self._nameable(n, scope, names, depth + 1) for n in (node.body, node.orelse))
        if isinstance(node, ast.BoolOp):
            return all(self._nameable(n, scope, names, depth + 1) for n in node.values)
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):  # iterated: for f in (dmodel_dw, dmodel_db)
            return all(self._nameable(n, scope, names, depth + 1) for n in node.elts)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("zip", "enumerate"):
            return all(self._nameable(n, scope, names, depth + 1) for n in node.args)
        if not isinstance(node, ast.Name):
            return False
        found = scope.lookup(node.id, every=True)
        if found is None:
            return True  # a built-in (checked as a name) or undefined
        owner, origins = found
        return bool(origins) and all(isinstance(o, str) or self._nameable(o, owner, names, depth + 1)
                                     for o in origins)


def _denied_path(path: str, prefixes: tuple[str, ...]) -> bool:
    """``path`` or the tail of it from any ``torch`` on: torch's own modules
    import torch, so ``torch.nn.functional.torch.func`` is ``torch.func``."""
    parts = path.split(".")
    for start, part in enumerate(parts):
        if start == 0 or part in ("torch", "functorch"):
            tail = ".".join(parts[start:])
            if any(tail == p or tail.startswith(p + ".") for p in prefixes):
                return True
    return False


__all__ = ["FORBIDDEN", "OUTSIDE", "UNREADABLE", "Denied", "Submission", "Use", "Walker", "constant_string"]
