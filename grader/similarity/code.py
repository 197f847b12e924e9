"""Code fingerprints: normalised tokens, k-grams, winnowing.

A source becomes tokens with everything a copier changes for free abstracted
away: local names become ``V`` (names bound by an import, builtins, keywords
and attributes stay: ``torch.mean`` is what the code does), numbers ``N``,
strings ``S``; comments, blank lines, docstrings and line breaks inside a
statement are dropped. Each top-level function (or class) is a unit of its own,
and so is the rest of the module, so k-grams never span two functions and
functions compare in any order. Each unit's k-grams are hashed and winnowed
(Schleimer, Wilkerson & Aiken 2003: the minimum hash of every window of ``w``
consecutive k-grams, rightmost on ties), so any passage of ``k + w - 1`` tokens
two sources share yields at least one fingerprint both hold.
"""
from __future__ import annotations

import ast
import builtins
import hashlib
import io
import keyword
import token
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

K_TOKENS = 8  # a k-gram: this many normalised tokens
WINDOW = 4  # winnowing window, in k-grams: shared passages of K_TOKENS + WINDOW - 1 tokens are always seen
_KEPT_NAMES = frozenset(dir(builtins)) | frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)
_DROPPED = {token.COMMENT, token.NL, token.ENCODING, token.ENDMARKER, token.TYPE_COMMENT}


@dataclass(frozen=True)
class Token:
    text: str  # normalised
    line: int  # 1-based line of the source it came from


@dataclass(frozen=True)
class Fingerprint:
    hash: int
    first_line: int
    last_line: int


def normalised_units(source: str) -> list[list[Token]]:
    """The source's normalised tokens, one list per top-level function or
    class and one for the rest of the module (empty lists left out)."""
    tokens = _raw_tokens(source)
    try:
        tree: ast.Module | None = ast.parse(source)
    except (SyntaxError, ValueError):
        tree = None
    kept = _imported_names(tree) | _KEPT_NAMES
    starts = _unit_starts(tree)
    units: dict[int, list[Token]] = {}
    previous, unit_id = "", 0
    for kind, text, line in _without_docstrings(tokens):
        # A DEDENT stands on the next statement's line: it closes the unit before.
        unit_id = unit_id if kind == token.DEDENT else _unit_of(line, starts)
        if kind == token.NAME:
            norm = text if text in _KEPT_NAMES or previous == "." or text in kept else "V"
        elif kind == token.NUMBER:
            norm = "N"
        elif kind == token.STRING or kind in _FSTRING_KINDS:
            norm = "S"
        elif kind == token.NEWLINE:
            norm = ";"
        elif kind == token.INDENT:
            norm = "{"
        elif kind == token.DEDENT:
            norm = "}"
        else:
            norm = text
        previous = text
        unit = units.setdefault(unit_id, [])
        if norm == "S" and unit and unit[-1].text == "S":
            continue  # an f-string's parts, or implicit concatenation: one string
        unit.append(Token(norm, line))
    return [unit for _, unit in sorted(units.items()) if unit]


_FSTRING_KINDS = {getattr(token, name) for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
                  if hasattr(token, name)}


def _raw_tokens(source: str) -> list[tuple[int, str, int]]:
    """(type, text, line) of each token that is not layout; a source that stops
    tokenizing (a syntax error) keeps the tokens before the error."""
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type not in _DROPPED:
                found.append((tok.type, tok.string, tok.start[0]))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return found


def _without_docstrings(tokens: list[tuple[int, str, int]]) -> Iterator[tuple[int, str, int]]:
    """Drop statements that are a lone string (docstrings, string comments)."""
    statement_start = True
    for n, (kind, text, line) in enumerate(tokens):
        if statement_start and kind == token.STRING:
            end = n
            while end < len(tokens) and tokens[end][0] == token.STRING:
                end += 1
            if end == len(tokens) or tokens[end][0] in (token.NEWLINE, token.DEDENT):
                continue
        if kind == token.NEWLINE and statement_start and n and tokens[n - 1][0] == token.STRING:
            continue  # the NEWLINE ending a dropped docstring
        statement_start = kind in (token.NEWLINE, token.INDENT, token.DEDENT) or (
            statement_start and kind == token.STRING)
        yield kind, text, line


def _imported_names(tree: ast.Module | None) -> frozenset[str]:
    """The names an import binds (``torch``, ``nn``, ``F``): what the code calls, not what it named."""
    if tree is None:
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
    return frozenset(names)


def _unit_starts(tree: ast.Module | None) -> list[tuple[int, int]]:
    """(first line, last line) of each top-level function and class, in order."""
    if tree is None:
        return []
    return [(min([node.lineno, *(d.lineno for d in node.decorator_list)]), node.end_lineno or node.lineno)
            for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def _unit_of(line: int, spans: list[tuple[int, int]]) -> int:
    for n, (first, last) in enumerate(spans, start=1):
        if first <= line <= last:
            return n
    return 0


def stable_hash(text: str) -> int:
    """A 63-bit hash that is the same in every process (``hash()`` is salted)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1


def kgrams(unit: list[Token], k: int = K_TOKENS) -> list[Fingerprint]:
    """Every k-gram of a unit hashed (a unit shorter than k is one k-gram)."""
    if not unit:
        return []
    if len(unit) < k:
        return [Fingerprint(stable_hash(" ".join(t.text for t in unit)), unit[0].line, unit[-1].line)]
    return [Fingerprint(stable_hash(" ".join(t.text for t in unit[i:i + k])), unit[i].line, unit[i + k - 1].line)
            for i in range(len(unit) - k + 1)]


def winnow(grams: list[Fingerprint], window: int = WINDOW) -> list[Fingerprint]:
    """The minimum of every window of ``window`` consecutive k-grams (the
    rightmost one on ties), each position once."""
    if len(grams) <= window:
        return [min(reversed(grams), key=lambda g: g.hash)] if grams else []
    chosen: dict[int, Fingerprint] = {}
    for start in range(len(grams) - window + 1):
        best = start + window - 1
        for i in range(start + window - 2, start - 1, -1):
            if grams[i].hash < grams[best].hash:
                best = i
        chosen[best] = grams[best]
    return [chosen[i] for i in sorted(chosen)]


def fingerprints(source: str, *, k: int = K_TOKENS, window: int = WINDOW) -> list[Fingerprint]:
    """The winnowed fingerprints of every unit of ``source``, with their lines."""
    return [fp for unit in normalised_units(source) for fp in winnow(kgrams(unit, k), window)]


def fingerprint_set(source: str, boilerplate: Iterable[int] = (), *, k: int = K_TOKENS,
                    window: int = WINDOW) -> frozenset[int]:
    """The hashes of ``source``'s fingerprints, without the ``boilerplate`` ones."""
    return frozenset(fp.hash for fp in fingerprints(source, k=k, window=window)) - frozenset(boilerplate)


def boilerplate_of(sources: Iterable[str], *, k: int = K_TOKENS) -> frozenset[int]:
    """Every k-gram (not only the winnowed ones) of the stub and the reference:
    what a submission holds because it was handed out or is simply right."""
    return frozenset(g.hash for source in sources for unit in normalised_units(source) for g in kgrams(unit, k))
