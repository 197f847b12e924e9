"""The points a hidden suite carries, read from its source without running it.

A test's points are declared once, by its ``@pytest.mark.points(n)`` marker:
that is what grading counts. The catalogue adds them up here (torch-free, no
import of the suite) so that an exercise's total is known before any run, and
so that a ``points`` written in ``course.toml`` can be checked against it.

Only what can be read for certain is counted: literal markers on test
functions, test classes or the module (``pytestmark``), the closest one
winning as in pytest, times the cases of literal ``parametrize`` lists. A suite
that computes its points or parametrizes through fixtures is ``Uncountable``;
its exercise must then declare ``points``, and ``grade verify`` checks that
against what the tests that ran carried.
"""
from __future__ import annotations

import ast
import math
from collections.abc import Sequence
from typing import TypeGuard


class Uncountable(Exception):
    """The suite's points cannot be read without running it; the message says why."""


def count_points(source: str, filename: str = "<suite>") -> float:
    """Total points of the tests in ``source`` (a pytest file), as grading counts them.

    Raises ``SyntaxError`` for a suite that does not parse and ``Uncountable``
    for one whose points depend on running it.
    """
    tree = ast.parse(source, filename=filename)
    if any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "pytest_generate_tests"
           for node in ast.walk(tree)):
        raise Uncountable("it defines pytest_generate_tests")
    if any(isinstance(mark, ast.Call) and ast.unparse(mark.func).endswith("fixture")
           and any(k.arg == "params" for k in mark.keywords)
           for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
           for mark in node.decorator_list):
        raise Uncountable("a fixture takes params=, which multiplies the tests that use it")
    everywhere = sum(_is_points_mark(node) for node in ast.walk(tree))
    where_read = sum(_is_points_mark(node) for node in _marks_read(tree))
    if everywhere > where_read:
        raise Uncountable("a points marker is kept in a name, or used elsewhere than on a test, "
                          "a test class or pytestmark")
    module_marks = _pytestmark(tree.body)
    total = 0.0
    for node in tree.body:
        if _is_test_function(node):
            total += _test_points(node, [module_marks])
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            class_marks = [*node.decorator_list, *_pytestmark(node.body)]
            total += sum((_test_points(child, [class_marks, module_marks])
                          for child in node.body if _is_test_function(child)), 0.0)
    return total


def _is_points_mark(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _mark_name(node) == "points"


def _marks_read(tree: ast.Module) -> list[ast.expr]:
    """Every mark where ``count_points`` looks for one: on tests, test classes, in ``pytestmark``."""
    marks = _pytestmark(tree.body)
    for node in tree.body:
        if _is_test_function(node):
            marks += node.decorator_list
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            marks += [*node.decorator_list, *_pytestmark(node.body)]
            marks += [mark for child in node.body if _is_test_function(child) for mark in child.decorator_list]
    return marks


def _is_test_function(node: ast.stmt) -> TypeGuard[ast.FunctionDef | ast.AsyncFunctionDef]:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test")


def _test_points(test: ast.FunctionDef | ast.AsyncFunctionDef, outer: Sequence[Sequence[ast.expr]]) -> float:
    """The closest ``points`` marker's value (the function's own, then its
    class's, then the module's) times the number of parametrized cases."""
    points = 0.0
    for marks in (test.decorator_list, *outer):
        found = [value for value in (_points(mark) for mark in marks) if value is not None]
        if len(found) > 1:
            raise Uncountable(f"{test.name} has {len(found)} points markers at one level")
        if found:
            points = found[0]
            break
    cases = math.prod(_cases(mark, test.name) for marks in (test.decorator_list, *outer) for mark in marks)
    return points * cases


def _mark_name(mark: ast.expr) -> str | None:
    """``points`` for ``pytest.mark.points(...)`` or ``mark.points(...)``."""
    call = mark.func if isinstance(mark, ast.Call) else mark
    if isinstance(call, ast.Attribute) and (
            (isinstance(call.value, ast.Attribute) and call.value.attr == "mark")
            or (isinstance(call.value, ast.Name) and call.value.id == "mark")):
        return call.attr
    return None


def _points(mark: ast.expr) -> float | None:
    if _mark_name(mark) != "points":
        if _mentions_points(mark):  # e.g. an alias of the marker: its value cannot be read here
            raise Uncountable(f"a marker is written as @{ast.unparse(mark)}")
        return None
    value = mark.args[0].value if isinstance(mark, ast.Call) and len(mark.args) == 1 and not mark.keywords \
        and isinstance(mark.args[0], ast.Constant) else None
    if type(value) not in (int, float):
        raise Uncountable(f"@{ast.unparse(mark)} is not a number written in the marker")
    return float(value)  # type: ignore[arg-type]  # an int or a float, checked above


def _mentions_points(node: ast.expr) -> bool:
    return any((isinstance(n, ast.Attribute) and n.attr == "points") or (isinstance(n, ast.Name) and n.id == "points")
               for n in ast.walk(node))


def _cases(mark: ast.expr, test_name: str) -> int:
    if _mark_name(mark) != "parametrize":
        return 1
    values = mark.args[1] if isinstance(mark, ast.Call) and len(mark.args) > 1 else None
    if not isinstance(values, (ast.List, ast.Tuple)) or any(isinstance(v, ast.Starred) for v in values.elts):
        raise Uncountable(f"{test_name} is parametrized over values that are not written out as a list")
    if any(_mentions_points(v) for v in values.elts):
        raise Uncountable(f"{test_name} has parametrized cases with their own marks")
    return len(values.elts)


def _pytestmark(body: Sequence[ast.stmt]) -> list[ast.expr]:
    """The marks of a ``pytestmark = mark`` or ``pytestmark = [marks]`` in ``body``."""
    marks: list[ast.expr] = []
    for node in body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets):
            value = node.value
            marks = list(value.elts) if isinstance(value, (ast.List, ast.Tuple)) else [value]
    return marks
