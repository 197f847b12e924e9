"""A hidden suite cut down to its public tests, with ``ast``: what a student copy of a course holds.

A public test keeps the helpers, fixtures and imports it still uses; nothing
else of the suite (a hidden test, a helper only hidden tests call) is copied.
"""
from __future__ import annotations

import ast
from collections.abc import Collection, Sequence

from grader.commands.student_files import ReleaseError


def public_suite(source: str, public: Collection[str], *, docstring: str | None = None,
                 filename: str = "<suite>") -> str:
    """The suite with only the tests named in ``public`` (hidden tests dropped,
    test classes left without tests dropped), then every module-level helper,
    constant and imported name that nothing kept refers to, unparsed.

    Which tests are public is the grading plugin's decision (markers, then the
    exercise's default); this only follows it. A public name with no test
    function of that name here is an error: the copy would silently lose it.
    """
    tree = ast.parse(source, filename=filename)
    body = list(tree.body)
    if docstring is not None:
        if body and _is_docstring(body[0]):
            body = body[1:]
        body.insert(0, ast.Expr(ast.Constant(docstring)))
    kept_tests: set[str] = set()
    statements: list[ast.stmt] = []
    for node in body:
        if isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            node.body = [n for n in node.body if not _is_test(n) or _test_names(n) <= set(public)] or [ast.Pass()]
            names = {name for n in node.body if _is_test(n) for name in _test_names(n)}
            if not names:
                continue
            kept_tests |= names
        elif _is_test(node):
            if not _test_names(node) <= set(public):
                continue
            kept_tests |= _test_names(node)
        statements.append(node)
    lost = sorted(set(public) - kept_tests)
    if lost:
        raise ReleaseError(f"{filename}: public tests {', '.join(lost)} are not test functions written in the "
                           "suite, so the copy cannot keep them")
    tree.body = _referenced_only(statements)
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_test(node: ast.stmt) -> bool:
    return bool(_test_names(node))


def _test_names(node: ast.stmt) -> set[str]:
    """The test names a statement defines: ``def test_x``, or ``test_x = ...``."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {node.name} if node.name.startswith("test") else set()
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        return {name for name in _assigned_names(node) if name.startswith("test")}
    return set()


def _assigned_names(node: ast.Assign | ast.AnnAssign) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name)}


def _defines(node: ast.stmt) -> set[str] | None:
    """The names a droppable statement binds, or None when it must stay
    (tests, pytest hooks and settings, ``__future__`` imports, anything else)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        keep = node.name.startswith(("test", "Test", "pytest_")) or _is_autouse_fixture(node)
        return None if keep else {node.name}
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not all(isinstance(t, ast.Name)
                   or (isinstance(t, ast.Tuple) and all(isinstance(e, ast.Name) for e in t.elts))
                   for t in targets):
            return None
        names = _assigned_names(node)
        return None if names & {"pytestmark", "pytest_plugins", "__all__"} or _test_names(node) else names
    return None


def _is_autouse_fixture(node: ast.stmt) -> bool:
    return any(isinstance(k, ast.keyword) and k.arg == "autouse" for d in getattr(node, "decorator_list", ())
               if isinstance(d, ast.Call) for k in d.keywords)


def _references(node: ast.AST) -> set[str]:
    """Names a statement uses: loaded names, and the parameters of the
    functions in it (a test's parameters name the fixtures it uses)."""
    names = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            names.add(child.id)
        elif isinstance(child, ast.arg):
            names.add(child.arg)
    return names


def _referenced_only(statements: Sequence[ast.stmt]) -> list[ast.stmt]:
    """Drop module-level definitions and imported names nothing kept refers to."""
    imports = (ast.Import, ast.ImportFrom)
    live: set[str] = set()
    pending: list[ast.AST] = [n for n in statements if not isinstance(n, imports) and _defines(n) is None]
    kept_ids = {id(n) for n in pending}
    droppable = [n for n in statements if not isinstance(n, imports) and _defines(n) is not None]
    while pending:
        for node in pending:
            live |= _references(node)
        pending = [n for n in droppable if id(n) not in kept_ids and (_defines(n) or set()) & live]
        kept_ids |= {id(n) for n in pending}
    result: list[ast.stmt] = []
    for node in statements:
        if isinstance(node, imports):
            if isinstance(node, ast.ImportFrom) and node.module == "__future__":
                result.append(node)
                continue
            aliases = [a for a in node.names if a.name == "*" or _bound_name(a) in live]
            if aliases:
                result.append(type(node)(**{**{f: getattr(node, f) for f in node._fields}, "names": aliases}))
        elif id(node) in kept_ids:
            result.append(node)
    return result


def _bound_name(alias: ast.alias) -> str:
    return alias.asname or alias.name.split(".")[0]
