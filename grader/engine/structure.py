"""How a student's module is built differently from the reference's, in a beginner's words.

``checks`` says *what* differs in a module's structure ("has no parameter
`weight2`", "has requires_grad False"); the detectors here say *why*, from
the two modules' descriptions (``executor.module_info``: parameters with
their names, shapes and requires_grad, plain tensors, layers), from the
gradients a forward pass gave each parameter, and, where only the code can
tell two causes apart, from the student's source read as a syntax tree
(never run): layers created inside forward(), kept in a plain list, one
parameter assigned to two names. No detector knows an exercise: each reads
the reference's structure as what was asked.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

import torch

from grader.engine.diagnosis import Diagnosis

WORDS: dict[str, str] = {
    "frozen": "Your parameter `{name}` is frozen: it was made with requires_grad=False, so autograd gives it no "
              "gradient and training never changes it (it is not trainable). An nn.Parameter requires grad by "
              "default: leave requires_grad out.",
    "renamed": "Your {parameters} called {got} where {expected} {are} asked for: a parameter's name is the name of "
               "the attribute it is assigned to (self.name = ...), and the layers inside an nn.Sequential are "
               "named by their position (0, 1, ...). Use the attribute names the exercise asks for.",
    "layers_in_forward": "Your model creates its layers inside forward(): when the model is built it has no "
                         "parameters (they are not registered in __init__), and every call makes new layers "
                         "with fresh random weights, so nothing it learns is kept. Create each layer once, in "
                         "__init__, and only use it in forward().",
    "plain_container": "Your model keeps its layers in a plain Python {container}: PyTorch does not look inside "
                       "one, so their parameters are not registered (model.parameters() does not list them and "
                       "no optimizer trains them). Use nn.ModuleList or nn.Sequential, or one attribute per layer.",
    "nothing_registered": "Your model registers no parameters at all: a tensor or layer becomes part of the "
                          "model only when it is assigned as an attribute in __init__ (an nn.Parameter, an "
                          "nn.Module, or an nn.ModuleList of them).",
    "no_bias": "Your layers are built without a bias term (bias=False): nn.Linear adds a bias to its output by "
               "default, and the exercise keeps it.",
    "tied": "Your `{name}` is the same parameter as `{other}` (self.{name} = self.{other}): one tensor under two "
            "names is registered once and shared, so the two cannot learn independently. Make each its own "
            "nn.Parameter.",
    "unused": "Your forward never uses {names}: {its} gradient stays {empty}, so {it} makes no difference to the "
              "output and never learns (unused).",
    "same_gradient": "Your `{name}` gets exactly the gradient `{other}` gets, where the two should differ: your "
                     "forward uses `{name}` the way it uses `{other}` (multiplied by the input, say), where it "
                     "belongs elsewhere in the formula (a bias term is added once, not multiplied).",
}


def _diagnosis(kind: str, **fields: Any) -> Diagnosis:
    return Diagnosis(kind, WORDS[kind].format(**fields))


def _names(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def diagnose_module(expected: Mapping[str, Any], got: Any, source: Callable[[], str | None] | None = None
                    ) -> Diagnosis | None:
    """Why a student's module (its description) is built differently from the
    reference's; ``source`` gives the student's code, read only when the
    structure alone cannot tell causes apart."""
    if not (isinstance(got, Mapping) and got.get("is_module")):
        return None
    want = {p["name"]: p for p in expected.get("parameters", [])}
    have = {p["name"]: p for p in got.get("parameters", [])}
    missing, extra = [n for n in want if n not in have], [n for n in have if n not in want]
    if want and not have:
        return _unregistered(source)
    if missing and not extra:
        tied = _tied(missing, set(have), source)
        if tied:
            return tied
        weights = {n.rsplit(".", 1)[0] for n in want if n.endswith(".weight")}
        if all(n.endswith(".bias") and n.rsplit(".", 1)[0] in weights for n in missing):
            return _diagnosis("no_bias")
    if missing and len(missing) == len(extra) and \
            sorted(tuple(want[n]["shape"]) for n in missing) == sorted(tuple(have[n]["shape"]) for n in extra):
        one = len(missing) == 1
        return _diagnosis("renamed", got=_names(extra), expected=_names(missing),
                          parameters="parameter is" if one else "parameters are", are="is" if one else "are")
    frozen = [n for n in want if n in have and want[n]["requires_grad"] and not have[n]["requires_grad"]]
    if frozen:
        return _diagnosis("frozen", name=frozen[0])
    return None


def _unregistered(source: Callable[[], str | None] | None) -> Diagnosis:
    tree = _parsed(source)
    if tree is not None:
        for method in _methods(tree):
            for _attribute, value in _self_assignments(method):
                if method.name == "forward" and isinstance(value, ast.Call):
                    return _diagnosis("layers_in_forward")
                if isinstance(value, (ast.List, ast.Dict, ast.ListComp, ast.DictComp)) or (
                        isinstance(value, ast.Call) and isinstance(value.func, ast.Name)
                        and value.func.id in ("list", "dict")):
                    kind = "dict" if isinstance(value, (ast.Dict, ast.DictComp)) or (
                        isinstance(value, ast.Call) and getattr(value.func, "id", "") == "dict") else "list"
                    return _diagnosis("plain_container", container=kind)
    return _diagnosis("nothing_registered")


def _tied(missing: list[str], registered: set[str], source: Callable[[], str | None] | None) -> Diagnosis | None:
    """A missing parameter assigned in the code as another, registered one (self.a = self.b)."""
    tree = _parsed(source)
    if tree is None:
        return None
    for method in _methods(tree):
        for target, value in _self_assignments(method):
            if target in missing and isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
                    and value.value.id == "self" and value.attr in registered:
                return _diagnosis("tied", name=target, other=value.attr)
    return None


def _parsed(source: Callable[[], str | None] | None) -> ast.Module | None:
    text = source() if source is not None else None
    if not text:
        return None
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _methods(tree: ast.Module) -> list[ast.FunctionDef]:
    return [node for cls in tree.body if isinstance(cls, ast.ClassDef)
            for node in cls.body if isinstance(node, ast.FunctionDef)]


def _self_assignments(method: ast.FunctionDef) -> list[tuple[str, ast.expr]]:
    """(attribute, value) of each ``self.attribute = value`` in a method."""
    found = []
    for node in ast.walk(method):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                        and target.value.id == "self":
                    found.append((target.attr, node.value))
    return found


def diagnose_gradients(expected: Mapping[str, Any] | None, got: Mapping[str, Any] | None) -> Diagnosis | None:
    """Why a module's parameters got other gradients from a forward pass: a
    parameter its forward never uses (no gradient, or zero where the
    reference's is not), or one used the way another is (the same gradient
    as it, where the reference gives them different ones)."""
    if not expected or not got:
        return None
    want = {n: g for n, g in expected.items() if isinstance(g, torch.Tensor) and bool(g.count_nonzero())}
    unused = [n for n in want if n in got and (got[n] is None or isinstance(got[n], torch.Tensor)
                                               and not bool(got[n].count_nonzero()))]
    if unused and len(unused) < len(want):
        none = all(got[n] is None for n in unused)
        one = len(unused) == 1
        return _diagnosis("unused", names=_names(unused), its="its" if one else "their",
                          empty="None" if none else "zero", it="it" if one else "they")
    have = {n: g for n, g in got.items() if isinstance(g, torch.Tensor) and n in want}
    for name in have:
        for other in have:
            if name == other or have[name].shape != have[other].shape or want[name].shape != want[other].shape:
                continue
            if _same(have[name], have[other]) and not _same(want[name], want[other]):
                # Of the two, name the one whose reference gradient no other parameter shares.
                if not any(_same(want[name], want[third]) for third in want if third != name):
                    return _diagnosis("same_gradient", name=name, other=other)
    return None


def _same(a: torch.Tensor, b: torch.Tensor) -> bool:
    return torch.allclose(a.double(), b.double(), rtol=1e-4, atol=1e-6)


__all__ = ["WORDS", "diagnose_gradients", "diagnose_module"]
