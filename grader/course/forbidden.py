"""What an exercise forbids, found in a submission's source on the trusted side.

An exercise may forbid a kind of help in some of its functions (autograd in a
gradient computed by hand, a ``torch.optim`` optimizer in a hand-written
update). Anything observed inside the sandbox can be switched off by the code
being observed (ARCHITECTURE.md, rule 6), so the check reads the source here,
with ``ast``, and never runs it.

From each function a rule names, the analysis follows every name that
function refers to in the module (helpers, classes, module-level aliases,
imports) and reports each use of what is forbidden: imports
(``from torch import autograd as ag``, ``from torch.optim import SGD``, star
imports), attribute chains through any alias (``t.optim.SGD``,
``torch.autograd.grad``), method names that only autograd has
(``loss.backward()``, ``requires_grad_``), ``getattr`` with constant strings,
``__import__`` / ``importlib.import_module`` / ``sys.modules`` with constant
names. Code whose meaning cannot be read from the source (``eval``, ``exec``,
``compile``, ``getattr`` with a computed name, ``__dict__``, ``pickle``,
another file of the submission) inside a function that forbids something is
refused as such, and so is module-level code that rewrites a library
(``torch.stack = ...``) or hooks the interpreter, since it can change what
every function does. Uses in module-level code that only runs at import
(a student checking their answer with autograd) are not counted: they cannot
change what a forbidden function computes when the grader calls it, unless
that function refers to their results, which is followed.

This module is pure and imports nothing from torch.
"""
from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

UNANALYSABLE = "unanalysable"


@dataclass(frozen=True)
class ForbiddenKind:
    """A kind of help an exercise may forbid, as the source shows it."""

    name: str
    # Dotted paths: the path itself, or anything under it, is a use.
    modules: tuple[str, ...]
    # Attribute or method names that are a use on any object (``x.backward()``).
    attributes: frozenset[str] = frozenset()
    # Keyword arguments that are a use unless given a constant False.
    keywords: frozenset[str] = frozenset()
    # Attributes that are a use when assigned (``x.requires_grad = True``).
    assigned: frozenset[str] = frozenset()


KINDS: dict[str, ForbiddenKind] = {kind.name: kind for kind in (
    ForbiddenKind(
        "autograd",
        modules=("torch.autograd", "torch.func", "torch._functorch", "functorch", "torch.enable_grad",
                 "torch.set_grad_enabled", "torch._C", "torch.Tensor.backward", "autograd", "jax"),
        attributes=frozenset({"autograd", "functorch", "_functorch", "enable_grad", "set_grad_enabled",
                              "_set_grad_enabled", "backward", "requires_grad_", "retain_grad", "register_hook",
                              "vjp", "jvp", "jacrev", "jacfwd", "vmap_grad", "grad_and_value"}),
        keywords=frozenset({"requires_grad"}),
        assigned=frozenset({"requires_grad"}),
    ),
    ForbiddenKind("torch.optim", modules=("torch.optim",), attributes=frozenset({"optim"})),
)}


@dataclass(frozen=True)
class ForbidRule:
    """``[[exercises.forbid]]`` in course.toml: ``functions`` must not use ``uses``."""

    uses: str  # a key of KINDS
    functions: tuple[str, ...]  # top-level functions or classes ("Name" or "Class.method")
    why: str
    # A mutant for ``grade verify``: the solution with ``find`` replaced by
    # ``replace`` uses the forbidden thing (and must lose points for it).
    find: str = ""
    replace: str = ""


@dataclass(frozen=True)
class Finding:
    """One forbidden (or unreadable) use reached from a function a rule names."""

    rule: ForbidRule
    function: str  # the function the rule names
    what: str  # "torch.autograd.grad", or for UNANALYSABLE what could not be read ("eval()")
    line: int
    within: str  # the function the line is in ("<module>" for module-level code)
    unanalysable: bool = False

    def where(self, place: Callable[[int], str] = "line {}".format) -> str:
        """Where the use is: the line (``place`` names it: a notebook's cell) and the function."""
        where = place(self.line)
        if self.within == "<module>":
            return where + ", in code that runs when the file is imported"
        if self.within != self.function:
            return where + f", in {self.within}, which {self.function} uses"
        return where


def describe(findings: Sequence[Finding], place: Callable[[int], str] = "line {}".format,
             shown: int = 3) -> str:
    """The report's words for one function's findings under one rule: what was
    used, where, and why the exercise forbids it."""
    rule, function = findings[0].rule, findings[0].function
    lines: list[str] = []
    for opaque, head in ((False, f"{function} uses {rule.uses}, which this exercise forbids there:"),
                         (True, (f"{function} cannot be checked for {rule.uses}: the grader cannot tell from the "
                                 f"source what this does, so write {function} without it:"))):
        group = [f for f in findings if f.unanalysable is opaque]
        if group:
            lines.append(head)
            lines += [f"  {f.what} ({f.where(place)})" for f in group[:shown]]
            lines += [f"  and {len(group) - shown} more"] if len(group) > shown else []
    lines.append(f"Why: {rule.why}")
    return "\n".join(lines)


def find_forbidden(source: str | bytes, rules: Sequence[ForbidRule], *,
                   local_modules: Iterable[str] = ()) -> tuple[Finding, ...]:
    """Every forbidden or unreadable use reached from each function the rules
    name, in line order per function. Give the module's bytes as the sandbox
    imports them: Python then reads its coding cookie as the import does. A
    source that does not parse has none (its import fails the same way).
    ``local_modules``: names of the submission's other files (``helpers`` for
    helpers.py), whose code is not followed."""
    if not rules:
        return ()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    except (RecursionError, MemoryError):  # nested too deeply for this reader: the import might still work
        return tuple(Finding(rule, function, "code nested too deeply to read", 1, "<module>", True)
                     for rule in rules for function in rule.functions)
    module = _Module(tree, frozenset(local_modules))
    findings: list[Finding] = []
    patches = module.module_level_hazards()
    for rule in rules:
        kind = KINDS[rule.uses]
        for function in rule.functions:
            seen: dict[tuple[int, bool], Finding] = {}
            for line, what, within, opaque in [*patches, *module.uses_from(function, kind)]:
                found = Finding(rule, function, what, line, within, opaque)
                # One finding per line: the fullest name (torch.autograd.grad, not .autograd).
                if (line, opaque) not in seen or _clearer(found.what, seen[line, opaque].what):
                    seen[line, opaque] = found
            findings += sorted(seen.values(), key=lambda f: (f.line, f.what))
    return tuple(findings)


def notebook_place(source: str) -> Callable[[int], str]:
    """Names a line of a notebook's module source (grader/course/notebooks.py
    starts each cell with ``# cell N``) as "cell N, line M"."""
    starts = [(number, int(match.group(1))) for number, text in enumerate(source.splitlines(), start=1)
              if (match := _CELL_MARK.fullmatch(text))]

    def place(line: int) -> str:
        cell = next(((start, cell) for start, cell in reversed(starts) if start <= line), None)
        return f"line {line}" if cell is None else f"cell {cell[1]}, line {line - cell[0]}"
    return place


# -- the module's names ----------------------------------------------------------

@dataclass
class _Scope:
    """Names bound in a module, function or class body, each with where its
    value comes from: an import path (str) or a node whose code defines it."""

    node: ast.AST
    parent: _Scope | None
    names: dict[str, list[str | ast.AST]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    is_class: bool = False

    def bind(self, name: str, origin: str | ast.AST | None, *, replace: bool = False) -> None:
        if replace or name not in self.names:
            self.names[name] = []
        if origin is not None:
            self.names[name].append(origin)

    def lookup(self, name: str) -> tuple[_Scope, list[str | ast.AST]] | None:
        scope: _Scope | None = self
        first = True
        while scope is not None:
            # A class body's names are not visible inside its methods.
            if (first or not scope.is_class) and name in scope.names and name not in scope.declared_global:
                return scope, scope.names[name]
            if name in scope.declared_global:
                scope = _root(scope)
                continue
            scope, first = scope.parent, False
        return None


def _root(scope: _Scope) -> _Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope


_OPAQUE_BUILTINS = frozenset({"eval", "exec", "compile", "globals", "vars", "locals", "__import__", "breakpoint"})
_OPAQUE_DUNDERS = frozenset({"__dict__", "__globals__", "__code__", "__builtins__", "__getattribute__",
                             "__subclasses__", "__import__", "__loader__", "__closure__", "__reduce__",
                             "__reduce_ex__", "__self__", "__func__", "__wrapped__", "f_globals", "f_locals",
                             "f_back", "f_builtins", "gi_frame", "tb_frame"})
# Modules whose calls can run code the source does not show.
_OPAQUE_MODULES = ("pickle", "_pickle", "marshal", "ctypes", "runpy", "code", "codeop", "gc", "dill",
                   "cloudpickle", "importlib.util", "importlib.machinery", "importlib.reload", "inspect",
                   "types.FunctionType", "types.CodeType",
                   "operator.attrgetter", "operator.methodcaller", "sys._getframe", "sys.settrace",
                   "sys.setprofile", "threading.settrace", "threading.setprofile", "builtins",
                   "signal", "torch.overrides", "torch.utils._python_dispatch", "torch.library", "torch.ops",
                   "torch.jit", "torch.compile", "torch._dynamo", "torch.fx", "joblib", "os.system",
                   "torch.load", "numpy.load", "shelve", "copyreg",
                   "subprocess", "multiprocessing", "concurrent")
# Module-level code that changes what every function does.
_HOOK_MODULES = ("sys.settrace", "sys.setprofile", "threading.settrace", "threading.setprofile", "signal",
                 "torch.overrides", "torch.utils._python_dispatch", "torch._C", "torch.library", "ctypes",
                 "sys.modules", "gc.callbacks", "gc.get_objects", "gc.get_referrers", "runpy",
                 "pickle", "marshal")
# Where an assignment to an attribute rewrites a library every function uses
# (torch.backends' switches are honest settings).
_PATCHABLE = ("torch", "functorch", "builtins", "sys")


def _patched(bases: set[str]) -> str | None:
    hits = [b for b in bases if _under(b, _PATCHABLE) and not _under(b, ("torch.backends",))]
    return _best(hits) if hits else None
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_MAX_DEPTH = 20
_CELL_MARK = re.compile(r"# cell (\d+)")


def _under(path: str, prefixes: Iterable[str]) -> str | None:
    for prefix in prefixes:
        if path == prefix or path.startswith(prefix + "."):
            return prefix
    return None


def _forbidden_path(path: str, prefixes: Iterable[str]) -> str | None:
    """``path`` or the tail of it from any ``torch`` on: torch's own modules
    import torch, so ``torch.nn.functional.torch.func`` is ``torch.func``."""
    parts = path.split(".")
    for start, part in enumerate(parts):
        if start == 0 or part in ("torch", "functorch"):
            found = _under(".".join(parts[start:]), prefixes)
            if found:
                return found
    return None


def _is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: never runs when the grader imports the file."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")


class _Module:
    def __init__(self, tree: ast.Module, local_modules: frozenset[str]) -> None:
        self.tree, self.local_modules = tree, local_modules
        self.scope_of: dict[int, _Scope] = {}  # id(function/class/lambda node) -> its scope
        self.star_imports: list[str] = []
        self._resolved: dict[tuple[int, int], set[str]] = {}
        self.root = _Scope(tree, None)
        self._bind_block(tree.body, self.root, conditional=False)
        self._bind_globals_from_functions()

    # -- binding -----------------------------------------------------------------
    def _bind_block(self, body: Sequence[ast.stmt], scope: _Scope, *, conditional: bool) -> None:
        for statement in body:
            if _is_main_guard(statement):
                continue
            self._bind_statement(statement, scope, conditional=conditional)

    def _bind_statement(self, node: ast.stmt, scope: _Scope, *, conditional: bool) -> None:
        # At module level an unconditional rebinding replaces what came before
        # (a notebook that redefines grad_fn is graded on its last version).
        replace = not conditional and scope.node is self.tree
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.bind(node.name, node, replace=replace)
            self._new_scope(node, scope)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.bind(alias.asname, alias.name, replace=replace)
                else:
                    top = alias.name.split(".")[0]
                    scope.bind(top, top, replace=replace)
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    self.star_imports.append(base)
                else:
                    scope.bind(alias.asname or alias.name, f"{base}.{alias.name}", replace=replace)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in _stored_names(target):
                    simple = isinstance(target, ast.Name) and not isinstance(node, ast.AugAssign)
                    scope.bind(name, node.value, replace=replace and simple)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.If, ast.While, ast.Try)
                        ) or type(node).__name__ in ("TryStar", "Match"):
            for name in _stored_names_in_header(node):
                scope.bind(name, _header_value(node, name))
            for block in _blocks(node):
                self._bind_block(block, scope, conditional=True)
        elif isinstance(node, ast.Global):
            scope.declared_global.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            pass  # the enclosing function's binding is found by lookup
        # Walrus targets and comprehension variables anywhere in the statement.
        for inner in ast.walk(node) if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                             ast.ClassDef)) else ():
            if isinstance(inner, ast.NamedExpr):
                scope.bind(inner.target.id, inner.value)

    def _new_scope(self, node: ast.AST, parent: _Scope) -> _Scope:
        scope = _Scope(node, parent, is_class=isinstance(node, ast.ClassDef))
        self.scope_of[id(node)] = scope
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                             *filter(None, [arguments.vararg, arguments.kwarg])]:
                scope.bind(argument.arg, None)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            return scope  # a lambda: its body is one expression
        self._bind_block(node.body, scope, conditional=True)
        # Nested lambdas and comprehensions: their own small scopes.
        for inner in _own_nodes(node):
            if isinstance(inner, ast.Lambda):
                self._new_scope(inner, scope)
            elif isinstance(inner, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                for generator in inner.generators:
                    for name in _stored_names(generator.target):
                        scope.bind(name, generator.iter)
        return scope

    def _bind_globals_from_functions(self) -> None:
        """``global x`` then ``x = ...`` inside a function binds a module name too."""
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = {n for g in ast.walk(node) if isinstance(g, ast.Global) for n in g.names}
                for inner in ast.walk(node):
                    if isinstance(inner, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and names:
                        targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                        for name in (n for t in targets for n in _stored_names(t)):
                            if name in names:
                                self.root.bind(name, inner.value)

    # -- resolving ---------------------------------------------------------------
    def resolve(self, node: ast.AST, scope: _Scope, depth: int = 0) -> set[str]:
        """The dotted paths an expression may evaluate to ("torch.optim"), as far
        as imports, aliases, getattr and import calls show. Memoized: aliases
        that refer to each other (``a = b or c; b = a or c``) must not make the
        grader's own work explode; a cycle resolves to nothing."""
        key = (id(node), id(scope))
        if key not in self._resolved:
            self._resolved[key] = set()  # in progress: a cycle back here adds nothing
            self._resolved[key] = self._resolve(node, scope, depth) if depth <= _MAX_DEPTH else set()
        return self._resolved[key]

    def _resolve(self, node: ast.AST, scope: _Scope, depth: int) -> set[str]:
        if isinstance(node, ast.Name):
            found = scope.lookup(node.id)
            if found is None:
                if hasattr(builtins, node.id):
                    return {f"builtins.{node.id}"}
                return {f"{module}.{node.id}" for module in self.star_imports}
            owner, origins = found
            paths: set[str] = set()
            for origin in origins:
                if isinstance(origin, str):
                    paths.add(origin)
                elif not isinstance(origin, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                    paths |= self.resolve(origin, owner, depth + 1)
            return paths
        if isinstance(node, ast.Attribute):
            return {f"{base}.{node.attr}" for base in self.resolve(node.value, scope, depth + 1)}
        if isinstance(node, ast.Call):
            callee = self.resolve(node.func, scope, depth + 1)
            name = _constant_string(node.args[1]) if len(node.args) >= 2 else None
            if "builtins.getattr" in callee and name is not None:
                return {f"{base}.{name}" for base in self.resolve(node.args[0], scope, depth + 1)}
            module = _constant_string(node.args[0]) if node.args else None
            if module is not None and "builtins.__import__" in callee:
                return {module.split(".")[0]} | ({module} if len(node.args) >= 4 or node.keywords else set())
            if module is not None and callee & {"importlib.import_module", "importlib.__import__"}:
                return {module}
            return set()
        if isinstance(node, ast.Subscript):
            key = _constant_string(node.slice)
            if key is not None and "sys.modules" in self.resolve(node.value, scope, depth + 1):
                return {key}
            return set()
        if isinstance(node, ast.IfExp):
            return self.resolve(node.body, scope, depth + 1) | self.resolve(node.orelse, scope, depth + 1)
        if isinstance(node, ast.BoolOp):
            return set().union(*(self.resolve(v, scope, depth + 1) for v in node.values))
        if isinstance(node, ast.NamedExpr):
            return self.resolve(node.value, scope, depth + 1)
        return set()

    # -- walking -----------------------------------------------------------------
    def uses_from(self, function: str, kind: ForbiddenKind) -> Iterator[tuple[int, str, str, bool]]:
        """(line, what, within, unanalysable) for every use reached from ``function``."""
        roots = self._roots(function)
        done: set[int] = set()
        work: list[tuple[ast.AST, _Scope, str]] = roots
        while work:
            node, scope, within = work.pop()
            if id(node) in done:
                continue
            done.add(id(node))
            yield from self._walk(node, scope, within, kind, work)

    def _roots(self, function: str) -> list[tuple[ast.AST, _Scope, str]]:
        head, _, method = function.partition(".")
        origins = self.root.names.get(head, [])
        roots: list[tuple[ast.AST, _Scope, str]] = []
        for origin in origins:
            if isinstance(origin, str):
                roots.append((ast.Name(id=head, ctx=ast.Load(), lineno=1), self.root, function))
            elif method and isinstance(origin, ast.ClassDef):
                scope = self.scope_of[id(origin)]
                roots += [(origin_method, scope, function) for origin_method in scope.names.get(method, [])
                          if isinstance(origin_method, ast.AST)]
            else:
                roots.append((origin, self.root, function))
        return roots

    def _walk(self, root: ast.AST, scope: _Scope, within: str, kind: ForbiddenKind,
              work: list) -> Iterator[tuple[int, str, str, bool]]:
        """Uses in ``root``'s code; names it refers to that the module defines go on ``work``."""
        stack: list[tuple[ast.AST, _Scope, str]] = [(root, scope, within)]
        while stack:
            node, scope, within = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                inner = self.scope_of.get(id(node)) or self._new_scope(node, scope)
                name = getattr(node, "name", within)
                outer = [*node.decorator_list] if not isinstance(node, ast.Lambda) else []
                if isinstance(node, ast.ClassDef):
                    outer += [*node.bases, *(k.value for k in node.keywords)]
                else:
                    outer += [*node.args.defaults, *filter(None, node.args.kw_defaults)]
                stack += [(child, scope, within) for child in outer]
                body = [node.body] if isinstance(node, ast.Lambda) else _without_docstring(node.body)
                stack += [(child, inner, name if not isinstance(node, ast.Lambda) else within) for child in body]
                continue
            if isinstance(node, ast.If) and _is_main_guard(node):
                stack += [(child, scope, within) for child in node.orelse]
                continue
            yield from self._node_uses(node, scope, within, kind, work)
            stack += [(child, scope, within) for child in ast.iter_child_nodes(node)]

    def _node_uses(self, node: ast.AST, scope: _Scope, within: str, kind: ForbiddenKind,
                   work: list) -> Iterator[tuple[int, str, str, bool]]:
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield from self._import_uses(node, within, kind)
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            found = scope.lookup(node.id)
            if found is not None:
                owner, origins = found
                for origin in origins:
                    if isinstance(origin, str):
                        yield from self._path_uses(origin, line, within, kind)
                    elif owner is self.root:  # a function's own names are walked with it
                        work.append((origin, owner, _name_of(origin, "<module>")))
            elif node.id in _OPAQUE_BUILTINS - {"__import__"}:
                yield line, f"{node.id}()", within, True
            elif node.id == "__builtins__":
                yield line, "__builtins__", within, True
            else:
                for module in self.star_imports:
                    yield from self._path_uses(f"{module}.{node.id}", line, within, kind)
            return
        if isinstance(node, ast.Attribute):
            if node.attr in kind.attributes:
                yield line, f".{node.attr}", within, False
            if node.attr in kind.assigned and isinstance(node.ctx, ast.Store):
                yield line, f".{node.attr} = ...", within, False
            if node.attr in _OPAQUE_DUNDERS:
                yield line, node.attr, within, True
            for path in self.resolve(node, scope):
                yield from self._path_uses(path, line, within, kind)
            patched = _patched(self.resolve(node.value, scope)) if isinstance(node.ctx, (ast.Store, ast.Del)) else None
            if patched:
                yield line, f"a change to {patched}.{node.attr}", within, True
            return
        if isinstance(node, ast.Call):
            callee = self.resolve(node.func, scope)
            for keyword in node.keywords:
                if keyword.arg in kind.keywords and not (isinstance(keyword.value, ast.Constant)
                                                         and keyword.value.value is False):
                    yield line, f"{keyword.arg}={ast.unparse(keyword.value)[:40]}", within, False
            yield from self._dynamic_call_uses(node, callee, scope, line, within, kind)
            return
        if isinstance(node, ast.Subscript):
            for path in self.resolve(node, scope):
                yield from self._path_uses(path, line, within, kind)
            if "sys.modules" in self.resolve(node.value, scope) and _constant_string(node.slice) is None:
                yield line, "sys.modules[...] with a computed name", within, True
            return
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _DOTTED.fullmatch(node.value):
            # A name written as a string ("autograd", "torch.optim") is how getattr tricks start.
            parts = node.value.split(".")
            if (_forbidden_path(node.value, kind.modules) or parts[-1] in kind.attributes
                    or any(m.split(".")[-1] == parts[-1] for m in kind.modules)):
                yield line, repr(node.value), within, False

    def _dynamic_call_uses(self, node: ast.Call, callee: set[str], scope: _Scope, line: int, within: str,
                           kind: ForbiddenKind) -> Iterator[tuple[int, str, str, bool]]:
        for name in ("getattr", "setattr", "delattr"):
            if f"builtins.{name}" in callee:
                attribute = _constant_string(node.args[1]) if len(node.args) >= 2 else None
                if attribute is None:
                    yield line, f"{name}() with a computed name", within, True
                elif attribute in kind.attributes or attribute in _OPAQUE_DUNDERS:
                    yield line, f"{name}(..., {attribute!r})", within, attribute in _OPAQUE_DUNDERS
                patched = _patched(self.resolve(node.args[0], scope)) if name != "getattr" and node.args else None
                if patched:
                    yield line, f"{name}() on {patched}", within, True
        first = _constant_string(node.args[0]) if node.args else None
        if callee & {"builtins.__import__", "importlib.import_module", "importlib.__import__"}:
            if first is None:
                yield line, "an import of a computed name", within, True
            else:
                yield from self._path_uses(first, line, within, kind)
                if first.split(".")[0] in self.local_modules:
                    yield line, f"{first}, another file of the submission", within, True

    def _import_uses(self, node: ast.Import | ast.ImportFrom, within: str,
                     kind: ForbiddenKind) -> Iterator[tuple[int, str, str, bool]]:
        line = node.lineno
        if isinstance(node, ast.Import):
            paths = [alias.name for alias in node.names]
        else:
            base = "." * node.level + (node.module or "")
            if node.level:
                yield line, f"a relative import ({base})", within, True
            paths = [base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names]
        for path in paths:
            yield from self._path_uses(path, line, within, kind)

    def _path_uses(self, path: str, line: int, within: str,
                   kind: ForbiddenKind) -> Iterator[tuple[int, str, str, bool]]:
        parts = path.split(".")
        if _forbidden_path(path, kind.modules) or (parts[-1] in kind.attributes and parts[0] in ("torch", "functorch")):
            yield line, path, within, False
        if path.startswith("builtins."):
            name = path.removeprefix("builtins.")
            if name in _OPAQUE_BUILTINS:
                yield line, f"{name}()", within, True
        elif _under(path, _OPAQUE_MODULES) or path.startswith("sys.modules."):
            yield line, path, within, True
        if path.split(".")[0] in self.local_modules:
            yield line, f"{path.split('.')[0]}.py, another file of the submission", within, True

    # -- module-level code ---------------------------------------------------------
    def module_level_hazards(self) -> list[tuple[int, str, str, bool]]:
        """Module-level code that can change what any function does: rewriting
        a library's attributes, hooking the interpreter, running unread code."""
        hazards: list[tuple[int, str, str, bool]] = []
        for node in _executed_at_import(self.tree):
            line = getattr(node, "lineno", 0)
            if isinstance(node, ast.Attribute) and node.attr in _OPAQUE_DUNDERS:
                hazards.append((line, node.attr, "<module>", True))
            if isinstance(node, ast.Attribute):
                hooked = [p for p in self.resolve(node, self.root) if _under(p, _HOOK_MODULES)]
                if hooked:
                    hazards.append((line, _best(hooked), "<module>", True))
            if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                bases = _patched(self.resolve(node.value, self.root))
                if bases:
                    label = f".{node.attr}" if isinstance(node, ast.Attribute) else "[...]"
                    hazards.append((line, f"a change to {bases}{label}", "<module>", True))
            elif isinstance(node, ast.Call):
                callee = self.resolve(node.func, self.root)
                if callee & {f"builtins.{n}" for n in ("exec", "eval", "compile", "globals", "vars", "setattr",
                                                       "delattr", "__import__")}:
                    hazards.append((line, f"{_best(callee).removeprefix('builtins.')}()", "<module>", True))
                hooked = [p for p in callee if _under(p, _HOOK_MODULES)]
                if hooked:
                    hazards.append((line, _best(hooked), "<module>", True))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else ["." * node.level + (node.module or "")])
                for name in names:
                    if name.split(".")[0] in self.local_modules or name.startswith("."):
                        hazards.append((line, f"an import of {name}, another file of the submission",
                                        "<module>", True))
        return hazards


def _executed_at_import(tree: ast.Module) -> Iterator[ast.AST]:
    """Nodes of code that runs when the module is imported: not function
    bodies (they run when called), not ``if __name__ == "__main__":`` blocks."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and _is_main_guard(node):
            stack += node.orelse
            continue
        yield node
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            stack += [*node.decorator_list, *node.args.defaults, *filter(None, node.args.kw_defaults)]
        elif isinstance(node, ast.Lambda):
            stack += [*node.args.defaults, *filter(None, node.args.kw_defaults)]
        else:
            stack += list(ast.iter_child_nodes(node))


def _clearer(what: str, than: str) -> bool:
    return (not what.startswith((".", "'")), len(what)) > (not than.startswith((".", "'")), len(than))


def _name_of(origin: ast.AST, default: str) -> str:
    return getattr(origin, "name", None) or default


def _best(paths: Iterable[str]) -> str:
    return min(paths, key=lambda p: (len(p), p))


def _constant_string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _stored_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)] if not isinstance(target, ast.Name) \
        else [target.id]


def _stored_names_in_header(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return _stored_names(node.target)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [n for item in node.items if item.optional_vars is not None for n in _stored_names(item.optional_vars)]
    if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
        return [h.name for h in getattr(node, "handlers", []) if h.name]
    return []


def _header_value(node: ast.stmt, name: str) -> ast.AST | None:
    if isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None and name in _stored_names(item.optional_vars):
                return item.context_expr
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return node.iter
    return None


def _blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(node, name) for name in ("body", "orelse", "finalbody") if getattr(node, name, None)]
    blocks += [handler.body for handler in getattr(node, "handlers", [])]
    blocks += [case.body for case in getattr(node, "cases", [])]
    return blocks


def _own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function or class body, not of the functions and classes nested in it."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        inner = stack.pop()
        yield inner
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack += list(ast.iter_child_nodes(inner))


def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body
