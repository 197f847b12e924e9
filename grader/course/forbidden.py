"""What an exercise forbids, found in a submission's source on the trusted side.

An exercise may forbid a kind of help in some of its functions (autograd in a
gradient computed by hand, a ``torch.optim`` optimizer in a hand-written
update). Anything observed inside the sandbox can be switched off by the code
being observed (ARCHITECTURE.md: checks in a room are conveniences), so the check reads the source here,
with ``ast``, and never runs it.

The rule is sound by construction for what it accepts, rather than a list of
spellings to refuse:

- the code a rule reaches (the functions it names, every name they refer to
  in the file, the submission's other files they import) may use only what
  the rule's allow-list holds (grader/course/by_hand.py): anything else is
  refused, named as forbidden when it is the thing the rule is about
  (``torch.autograd.grad``), as outside the list otherwise (``.grad_fn``,
  ``torch.nn.Parameter``, a dunder);
- the function read must be the function called: a file that could rebind
  it, or change what it reads, or load code the source does not show, is
  refused as unreadable (grader/course/forbid_hazards.py).

Uses in module-level code that only runs at import (a student checking their
answer with autograd) are not counted: they cannot change what a ruled
function computes when the grader calls it.

This module and the ones it uses are pure and import nothing from torch.
"""
from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from grader.course.by_hand import BY_HAND, BY_HAND_WITH_AUTOGRAD, DEFAULT_LIBRARIES, Vocabulary
from grader.course.forbid_hazards import hazards
from grader.course.forbid_scopes import ModuleNames
from grader.course.forbid_walk import FORBIDDEN, OUTSIDE, UNREADABLE, Denied, Submission, Use, Walker

UNANALYSABLE = UNREADABLE
_CELL_MARK = re.compile(r"# cell (\d+)")


@dataclass(frozen=True)
class ForbiddenKind:
    """A kind of help an exercise may forbid: what code under the rule may use
    (``allowed``), and what is named as the forbidden thing itself."""

    name: str
    allowed: Vocabulary
    denied: Denied


KINDS: dict[str, ForbiddenKind] = {kind.name: kind for kind in (
    ForbiddenKind("autograd", BY_HAND, Denied(
        modules=("torch.autograd", "torch.func", "torch._functorch", "functorch", "torch.enable_grad",
                 "torch.set_grad_enabled", "torch._C", "torch.Tensor.backward", "autograd", "jax"),
        attributes=frozenset({"autograd", "functorch", "_functorch", "enable_grad", "set_grad_enabled",
                              "_set_grad_enabled", "backward", "requires_grad_", "retain_grad", "register_hook",
                              "vjp", "jvp", "jacrev", "jacfwd", "vmap_grad", "grad_and_value", "grad", "grad_fn",
                              "next_functions"}),
        keywords=frozenset({"requires_grad"}),
        assigned=frozenset({"requires_grad"}),
    )),
    ForbiddenKind("torch.optim", BY_HAND_WITH_AUTOGRAD, Denied(
        modules=("torch.optim",), attributes=frozenset({"optim"}), keywords=frozenset(), assigned=frozenset())),
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
    # What the course adds to the kind's allow-list: dotted names ("torch.nn.functional.relu"),
    # or ".name" for an attribute or method of any value.
    allow: tuple[str, ...] = ()
    # Libraries a file under the rule may import, besides the standard library and DEFAULT_LIBRARIES.
    libraries: tuple[str, ...] = ()

    @property
    def vocabulary(self) -> Vocabulary:
        return KINDS[self.uses].allowed.widened(self.allow)


@dataclass(frozen=True)
class Finding:
    """One forbidden, unlisted or unreadable use reached from a function a rule names."""

    rule: ForbidRule
    function: str  # the function the rule names
    what: str  # "torch.autograd.grad", ".grad_fn", or what could not be read ("eval()")
    line: int
    within: str  # the function the line is in ("<module>" for module-level code)
    category: str = FORBIDDEN  # FORBIDDEN, OUTSIDE (not on the allow-list) or UNREADABLE
    file: str = ""  # "" for the exercise's file, else another file of the submission ("helpers.py")

    @property
    def unanalysable(self) -> bool:
        return self.category == UNREADABLE

    def where(self, place: Callable[[int], str] = "line {}".format) -> str:
        """Where the use is: the line (``place`` names it: a notebook's cell) and the function."""
        where = f"{self.file}, line {self.line}" if self.file else place(self.line)
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
    heads = {
        FORBIDDEN: f"{function} uses {rule.uses}, which this exercise forbids there:",
        OUTSIDE: (f"{function} uses what this exercise does not let it use: written by hand, it may use "
                  f"{rule.vocabulary.words}; not:"),
        UNREADABLE: (f"{function} cannot be checked for {rule.uses}: the grader cannot tell from the source what "
                     f"this does, or that {function} is the function it calls, so write {function} without it:"),
    }
    lines: list[str] = []
    for category, head in heads.items():
        group = [f for f in findings if f.category == category]
        if group:
            lines.append(head)
            lines += [f"  {f.what} ({f.where(place)})" for f in group[:shown]]
            lines += [f"  and {len(group) - shown} more"] if len(group) > shown else []
    lines.append(f"Why: {rule.why}")
    return "\n".join(lines)


def find_forbidden(source: str | bytes, rules: Sequence[ForbidRule], *, module: str = "exercise",
                   local_modules: Iterable[str] = (), local_sources: Mapping[str, str | bytes] | None = None,
                   ) -> tuple[Finding, ...]:
    """Every forbidden, unlisted or unreadable use reached from each function
    the rules name, in line order per function. Give the module's bytes as the
    sandbox imports them: Python then reads its coding cookie as the import
    does. A source that does not parse has none (its import fails the same
    way). ``module``: the name the file is imported as (``exercise2``);
    ``local_sources``: the submission's other files by module name, followed
    under the same rules; ``local_modules``: other files whose source is not
    given (a use of them cannot be read)."""
    if not rules:
        return ()
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    except (RecursionError, MemoryError):  # nested too deeply for this reader: the import might still work
        return _everywhere(rules, "code nested too deeply to read")
    parsed, unread = {module: ModuleNames(tree)}, set(local_modules)
    for name, text in (local_sources or {}).items():
        try:
            parsed[name] = ModuleNames(ast.parse(text))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            unread.add(name)
    unread -= set(parsed)
    findings: list[Finding] = []
    for rule in rules:
        submission = Submission(parsed, module, frozenset(unread))
        walker = Walker(submission, rule.vocabulary, KINDS[rule.uses].denied)
        reached = {function: list(walker.uses_from(function)) for function in rule.functions}
        found_hazards = list(_hazards(submission, rule))
        for function in rule.functions:
            findings += _one_per_line(rule, function, [*found_hazards, *reached[function]])
    return tuple(findings)


def _hazards(submission: Submission, rule: ForbidRule) -> Iterable[Use]:
    """Hazards of the exercise's file and of every file of the submission it imports."""
    libraries = (*DEFAULT_LIBRARIES, *rule.libraries)
    local = set(submission.modules) | set(submission.unread)
    todo, done = [submission.main], set()
    while todo:
        name = todo.pop()
        if name in done or name not in submission.modules:
            continue
        done.add(name)
        names = submission.modules[name]
        yield from hazards(names, file=submission.file_of(name), reached=submission.reached.get(name, set()),
                           local_modules=local, libraries=libraries)
        todo += [m for m in _imported(names.tree) if m in local]


def _imported(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def _one_per_line(rule: ForbidRule, function: str, uses: Iterable[Use]) -> list[Finding]:
    seen: dict[tuple[str, int, str], Finding] = {}
    for use in uses:
        found = Finding(rule, function, use.what, use.line, use.within, use.category, use.file)
        key = (use.file, use.line, use.category)
        # One finding per line: the fullest name (torch.autograd.grad, not .autograd).
        if key not in seen or _clearer(found.what, seen[key].what):
            seen[key] = found
    return sorted(seen.values(), key=lambda f: (f.file, f.line, f.what))


def _everywhere(rules: Sequence[ForbidRule], what: str) -> tuple[Finding, ...]:
    return tuple(Finding(rule, function, what, 1, "<module>", UNREADABLE)
                 for rule in rules for function in rule.functions)


def _clearer(what: str, than: str) -> bool:
    return (not what.startswith((".", "'")), len(what)) > (not than.startswith((".", "'")), len(than))


def notebook_place(source: str) -> Callable[[int], str]:
    """Names a line of a notebook's module source (grader/course/notebooks.py
    starts each cell with ``# cell N``) as "cell N, line M"."""
    starts = [(number, int(match.group(1))) for number, text in enumerate(source.splitlines(), start=1)
              if (match := _CELL_MARK.fullmatch(text))]

    def place(line: int) -> str:
        cell = next(((start, cell) for start, cell in reversed(starts) if start <= line), None)
        return f"line {line}" if cell is None else f"cell {cell[1]}, line {line - cell[0]}"
    return place


__all__ = ["KINDS", "OUTSIDE", "UNANALYSABLE", "Finding", "ForbidRule", "ForbiddenKind", "describe",
           "find_forbidden", "notebook_place"]
