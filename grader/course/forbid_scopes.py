"""The names of a submission's module, as its source binds them: the reading half of forbidden.py.

A ``Scope`` holds, for each name a module, function or class body binds,
where its value comes from: an import path ("torch.autograd") or the node
whose code makes it. At module level an unconditional rebinding replaces what
came before (``names``: what the grader gets after import), while ``every``
keeps all of a name's bindings, for code that may have read an earlier one
(a default argument, a call at import). ``ModuleNames.resolve`` says which
dotted library paths an expression may be.

Pure: ``ast`` only.
"""
from __future__ import annotations

import ast
import builtins
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

MAX_DEPTH = 20

@dataclass
class Scope:
    """Names bound in a module, function or class body, each with where its
    value comes from: an import path (str) or a node whose code defines it."""

    node: ast.AST
    parent: Scope | None
    names: dict[str, list[str | ast.AST]] = field(default_factory=dict)
    every: dict[str, list[str | ast.AST]] = field(default_factory=dict)
    declared_global: set[str] = field(default_factory=set)
    is_class: bool = False

    def bind(self, name: str, origin: str | ast.AST | None, *, replace: bool = False) -> None:
        if replace or name not in self.names:
            self.names[name] = []
        self.every.setdefault(name, [])
        if origin is not None:
            self.names[name].append(origin)
            self.every[name].append(origin)

    def lookup(self, name: str, *, every: bool = False) -> tuple[Scope, list[str | ast.AST]] | None:
        """Where ``name`` is bound seen from here, and its origins: the last
        binding at module level, or with ``every`` all it ever had."""
        scope: Scope | None = self
        first = True
        while scope is not None:
            # A class body's names are not visible inside its methods.
            if (first or not scope.is_class) and name in scope.names and name not in scope.declared_global:
                return scope, (scope.every if every else scope.names)[name]
            if name in scope.declared_global:
                scope = _root(scope)
                continue
            scope, first = scope.parent, False
        return None


def _root(scope: Scope) -> Scope:
    while scope.parent is not None:
        scope = scope.parent
    return scope



def under(path: str, prefixes: Iterable[str]) -> str | None:
    for prefix in prefixes:
        if path == prefix or path.startswith(prefix + "."):
            return prefix
    return None



def is_main_guard(node: ast.AST) -> bool:
    """``if __name__ == "__main__":``: never runs when the grader imports the file."""
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and len(test.comparators) == 1 and isinstance(test.comparators[0], ast.Constant)
            and test.comparators[0].value == "__main__")



class ModuleNames:
    """Every scope of one module, and what its expressions resolve to."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.scope_of: dict[int, Scope] = {}  # id(function/class/lambda node) -> its scope
        self.star_imports: list[str] = []
        self._resolved: dict[tuple[int, int], set[str]] = {}
        self.root = Scope(tree, None)
        self._bind_block(tree.body, self.root, conditional=False)
        self._bind_globals_from_functions()

    # -- binding -----------------------------------------------------------------
    def _bind_block(self, body: Sequence[ast.stmt], scope: Scope, *, conditional: bool) -> None:
        for statement in body:
            if is_main_guard(statement):
                continue
            self._bind_statement(statement, scope, conditional=conditional)

    def _bind_statement(self, node: ast.stmt, scope: Scope, *, conditional: bool) -> None:
        # At module level an unconditional rebinding replaces what came before
        # (a notebook that redefines grad_fn is graded on its last version).
        replace = not conditional and scope.node is self.tree
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope.bind(node.name, node, replace=replace)
            self._new_scope(node, scope)
            return  # a definition's inner names are its own scope's
        if isinstance(node, ast.Import):
            _bind_import(node, scope, replace=replace)
        elif isinstance(node, ast.ImportFrom):
            self._bind_import_from(node, scope, replace=replace)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            _bind_assignment(node, scope, replace=replace)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.With, ast.AsyncWith, ast.If, ast.While, ast.Try)
                        ) or type(node).__name__ in ("TryStar", "Match"):
            self._bind_compound(node, scope)
        elif isinstance(node, ast.Global):
            scope.declared_global.update(node.names)
        # ast.Nonlocal: the enclosing function's binding is found by lookup.
        # Walrus targets and comprehension variables anywhere in the statement.
        for inner in ast.walk(node):
            if isinstance(inner, ast.NamedExpr):
                scope.bind(inner.target.id, inner.value)

    def _bind_import_from(self, node: ast.ImportFrom, scope: Scope, *, replace: bool) -> None:
        base = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                self.star_imports.append(base)
            else:
                scope.bind(alias.asname or alias.name, f"{base}.{alias.name}", replace=replace)

    def _bind_compound(self, node: ast.stmt, scope: Scope) -> None:
        """A statement with blocks: its header's names, then its blocks (which may not run)."""
        for name in stored_names_in_header(node):
            scope.bind(name, header_value(node, name))
        for block in blocks(node):
            self._bind_block(block, scope, conditional=True)

    def _new_scope(self, node: ast.AST, parent: Scope) -> Scope:
        scope = Scope(node, parent, is_class=isinstance(node, ast.ClassDef))
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
        for inner in own_nodes(node):
            if isinstance(inner, ast.Lambda):
                self._new_scope(inner, scope)
            elif isinstance(inner, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                for generator in inner.generators:
                    for name in stored_names(generator.target):
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
                        for name in (n for t in targets for n in stored_names(t)):
                            if name in names:
                                self.root.bind(name, inner.value)

    # -- resolving ---------------------------------------------------------------
    def resolve(self, node: ast.AST, scope: Scope, depth: int = 0) -> set[str]:
        """The dotted paths an expression may evaluate to ("torch.optim"), as far
        as imports, aliases, getattr and import calls show. Memoized: aliases
        that refer to each other (``a = b or c; b = a or c``) must not make the
        grader's own work explode; a cycle resolves to nothing."""
        key = (id(node), id(scope))
        if key not in self._resolved:
            self._resolved[key] = set()  # in progress: a cycle back here adds nothing
            self._resolved[key] = self._resolve(node, scope, depth) if depth <= MAX_DEPTH else set()
        return self._resolved[key]

    def _resolve(self, node: ast.AST, scope: Scope, depth: int) -> set[str]:
        if isinstance(node, ast.Name):
            return self._resolve_name(node, scope, depth)
        if isinstance(node, ast.Attribute):
            return {f"{base}.{node.attr}" for base in self.resolve(node.value, scope, depth + 1)}
        if isinstance(node, ast.Call):
            return self._resolve_call(node, scope, depth)
        if isinstance(node, ast.Subscript):
            key = constant_string(node.slice)
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

    def _resolve_name(self, node: ast.Name, scope: Scope, depth: int) -> set[str]:
        found = scope.lookup(node.id, every=True)
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

    def _resolve_call(self, node: ast.Call, scope: Scope, depth: int) -> set[str]:
        """``getattr(x, "name")``, ``__import__("m")`` and ``importlib.import_module("m")``."""
        callee = self.resolve(node.func, scope, depth + 1)
        name = constant_string(node.args[1]) if len(node.args) >= 2 else None
        if "builtins.getattr" in callee and name is not None:
            return {f"{base}.{name}" for base in self.resolve(node.args[0], scope, depth + 1)}
        module = constant_string(node.args[0]) if node.args else None
        if module is not None and "builtins.__import__" in callee:
            return {module.split(".")[0]} | ({module} if len(node.args) >= 4 or node.keywords else set())
        if module is not None and callee & {"importlib.import_module", "importlib.__import__"}:
            return {module}
        return set()


def _bind_import(node: ast.Import, scope: Scope, *, replace: bool) -> None:
    for alias in node.names:
        if alias.asname:
            scope.bind(alias.asname, alias.name, replace=replace)
        else:
            top = alias.name.split(".")[0]
            scope.bind(top, top, replace=replace)


def _bind_assignment(node: ast.Assign | ast.AnnAssign | ast.AugAssign, scope: Scope, *, replace: bool) -> None:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for target in targets:
        for name in stored_names(target):
            simple = isinstance(target, ast.Name) and not isinstance(node, ast.AugAssign)
            scope.bind(name, node.value, replace=replace and simple)


def clearer(what: str, than: str) -> bool:
    return (not what.startswith((".", "'")), len(what)) > (not than.startswith((".", "'")), len(than))


def name_of(origin: ast.AST, default: str) -> str:
    return getattr(origin, "name", None) or default


def best(paths: Iterable[str]) -> str:
    return min(paths, key=lambda p: (len(p), p))


def constant_string(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def stored_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name)] if not isinstance(target, ast.Name) \
        else [target.id]


def stored_names_in_header(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return stored_names(node.target)
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return [n for item in node.items if item.optional_vars is not None for n in stored_names(item.optional_vars)]
    if isinstance(node, ast.Try) or type(node).__name__ == "TryStar":
        return [h.name for h in getattr(node, "handlers", []) if h.name]
    return []


def header_value(node: ast.stmt, name: str) -> ast.AST | None:
    if isinstance(node, (ast.With, ast.AsyncWith)):
        for item in node.items:
            if item.optional_vars is not None and name in stored_names(item.optional_vars):
                return item.context_expr
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return node.iter
    return None


def blocks(node: ast.stmt) -> list[list[ast.stmt]]:
    blocks = [getattr(node, name) for name in ("body", "orelse", "finalbody") if getattr(node, name, None)]
    blocks += [handler.body for handler in getattr(node, "handlers", [])]
    blocks += [case.body for case in getattr(node, "cases", [])]
    return blocks


def own_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function or class body, not of the functions and classes nested in it."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        inner = stack.pop()
        yield inner
        if not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack += list(ast.iter_child_nodes(inner))


def without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body

