"""What a submission is called: the name an entry of SUBMISSIONS carries everywhere.

An entry's name is the student's file name, so it may hold anything a file
name can: a newline, ESC, a right-to-left override, bytes that are not UTF-8.
Names are made safe once, here, and every later reader (the record, the
gradebook, the summary, the terminal) only ever sees the carried form:

- ``carried_name``: control, format and separator characters (and lone
  surrogates, from bytes that are not UTF-8) become visible escapes (``\\x1b``,
  ``\\u202e``), and a backslash becomes ``\\\\``, so two different file names
  never carry the same name; a name still too long is cut and made unique
  with a digest of the original;
- ``name_refusal``: an entry whose name needed such escapes is refused (the
  student renames it), never graded under a name that could forge a line;
- ``unique_names``: each entry is named after itself without its extension
  (``alice.zip`` → ``alice``) unless another entry would then share its name
  (case-insensitively), in which case it keeps its full file name: no two
  entries ever carry the same name, so none overwrites another's row;
- ``student_key``: entries that would be the same student (``bob/``,
  ``bob.zip``, ``bob.zip.ipynb``) share a key; they are all kept, flagged,
  and an export refuses to guess which one a roster line means.

Pure functions of strings; torch-free.
"""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from grader.inert import escape, printable

MAX_NAME_BYTES = 200  # a carried name is a folder's name in OUT: well under the 255 bytes of a file name
_DIGEST_CHARS = 12
# What an entry's name may end with and still be the same student: its kinds of submission.
ENTRY_SUFFIXES = (".zip", ".ipynb", ".py")


def _escape(character: str) -> str:
    # grader.inert's allow-list, with the backslash escaped too: two file names never carry one name.
    if character == "\\":
        return "\\\\"
    return character if printable(character) else escape(character)


def escaped(text: str) -> str:
    """``text`` with every unsafe character (and the backslash) as a visible escape: injective."""
    return "".join(map(_escape, text))


def has_unsafe_characters(text: str) -> bool:
    """Anything off grader.inert's allow-list: controls, formats (bidi overrides, zero-width
    characters), surrogates (undecodable bytes), separators, unassigned and private code points."""
    return not all(map(printable, text))


def carried_name(raw: str) -> str:
    """The name an entry called ``raw`` carries: escaped, at most ``MAX_NAME_BYTES`` bytes."""
    name = escaped(raw)
    if len(name.encode("utf-8")) <= MAX_NAME_BYTES:
        return name
    digest = hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:_DIGEST_CHARS]
    room = MAX_NAME_BYTES - len(digest) - 3  # "…" is 3 bytes
    cut = name.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{cut}…{digest}"


def name_refusal(raw: str) -> str | None:
    """Why an entry called ``raw`` is not graded under its name, or None."""
    if has_unsafe_characters(raw):
        return (f"the entry's name holds control or invisible characters (shown escaped: {carried_name(raw)}); "
                "rename it with plain characters and grade again")
    return None


def student_key(name: str) -> str:
    """What entries that would be the same student share: the name without the
    extensions of a submission (``bob.zip.ipynb`` → ``bob``), case-folded."""
    key = name.casefold()
    while True:
        stripped = next((key[: -len(s)] for s in ENTRY_SUFFIXES if key.endswith(s) and len(key) > len(s)), key)
        if stripped == key:
            return key
        key = stripped


@dataclass(frozen=True)
class EntryName:
    """One entry's carried name, why its name is refused (if it is), and its flags."""

    name: str
    refused: str | None = None
    notes: tuple[str, ...] = ()


def _stem(carried: str, is_folder: bool) -> str:
    if is_folder or "." not in carried.lstrip("."):
        return carried
    return carried[: carried.rindex(".")]


def unique_names(entries: Sequence[tuple[str, bool]]) -> list[EntryName]:
    """The names of entries given as (file name, is a folder), in their order.

    No two carried names are equal, even case-insensitively, unless their
    file names differ only in case; entries that would be the same student
    (``student_key``) each get a note naming the others.
    """
    fulls = [carried_name(raw) for raw, _ in entries]
    refusals = [name_refusal(raw) for raw, _ in entries]
    stems = [full if refused else _stem(full, is_folder)
             for full, refused, (_, is_folder) in zip(fulls, refusals, entries, strict=True)]
    stem_counts = Counter(s.casefold() for s in stems)
    full_counts = Counter(f.casefold() for f in fulls)

    def named(stem: str, full: str) -> str:
        others_full = full_counts[stem.casefold()] - (stem.casefold() == full.casefold())
        return stem if stem_counts[stem.casefold()] == 1 and others_full == 0 else full

    names = [named(stem, full) for stem, full in zip(stems, fulls, strict=True)]
    others = same_student(names)
    return [EntryName(name=name, refused=refused, notes=_same_student_note(name, others.get(name, [])))
            for name, refused in zip(names, refusals, strict=True)]


def same_student(names: Iterable[str]) -> dict[str, list[str]]:
    """For each name that shares its ``student_key`` with others, those others (sorted)."""
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[student_key(name)].append(name)
    return {name: sorted(n for n in group if n != name) for group in groups.values() if len(group) > 1
            for name in group}


def _same_student_note(name: str, others: Sequence[str]) -> tuple[str, ...]:
    if not others:
        return ()
    return (f"{name} and {', '.join(others)} in the submissions folder may be the same student's: each is graded "
            "on its own, and an export asks which one counts (keep one in the folder)",)
