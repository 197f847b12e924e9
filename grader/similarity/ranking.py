"""Pairs of submissions ranked by what they share and how rare it is in the class.

Per exercise, each submission brings a set of code fingerprints
(``grader.similarity.code``) and a set of answer marks (one per call the
grader made: ``<status>:<hash>`` with status ``r`` the reference's answer,
``m`` a declared known mistake's, ``w`` a wrong answer no known mistake
gives, ``e`` an error; see ``grader.engine.answer_marks``). What two
submissions share counts by its rarity: ``log((N+1)/df) / log((N+1)/2)``,
1 for something only the two of them hold, 0 for what more than
``common_limit(N)`` submissions hold (what much of the class writes or answers
is no evidence). Only pairs that share a rare item are ever looked at: an
inverted index from item to the submissions holding it yields the candidate
pairs, so the work grows with the rare items, not with N².

A pair's code score is the rarity-weighted count of shared fingerprints over
the smaller submission's count; its behaviour score the same over the calls,
each shared answer also weighted by its kind (a shared unexplained wrong
answer counts fully, a declared mistake little, the reference's answer almost
nothing). The two combine as independent evidence: 1 - (1-code)(1-behaviour).
"""
from __future__ import annotations


import math
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

MIN_FINGERPRINTS = 4  # a tiny file sharing its one fingerprint is not 100% alike
MIN_CALLS = 3
COMMON_SHARE = 0.03  # held by more than this share of the class (and COMMON_AT_LEAST): no evidence
COMMON_AT_LEAST = 8
# How much a shared answer counts, by its kind (the status letter of its mark).
ANSWER_WEIGHT = {"w": 1.0, "e": 0.6, "m": 0.15, "r": 0.05}


@dataclass(frozen=True)
class Evidence:
    """One submission's evidence on one exercise."""

    submission: str
    fingerprints: frozenset[int] = frozenset()
    marks: tuple[str, ...] = ()  # answer marks, one per call, in the order asked


@dataclass(frozen=True)
class Pair:
    exercise_id: str
    a: str
    b: str
    score: float
    code_score: float
    behaviour_score: float
    shared_fingerprints: int = 0
    unique_fingerprints: int = 0  # shared fingerprints no other submission holds
    fingerprints_a: int = 0
    fingerprints_b: int = 0
    calls: int = 0  # calls both answered
    same_wrong: int = 0  # the same answer no known mistake gives, on this many calls
    same_wrong_unique: int = 0  # ... that no other submission gives
    same_mistake: int = 0
    same_error: int = 0
    same_right: int = 0

    def code_words(self) -> str:
        if not self.shared_fingerprints:
            return "no shared passage beyond the stub, the reference and what much of the class writes"
        rare = (f", {self.unique_fingerprints} of them found in no other submission"
                if self.unique_fingerprints else "")
        return (f"{self.shared_fingerprints} shared passages (of {self.fingerprints_a} and "
                f"{self.fingerprints_b}){rare}")

    def behaviour_words(self) -> str:
        if not self.calls:
            return "no answers recorded"
        parts = []
        if self.same_wrong:
            unique = (f", {self.same_wrong_unique} of them given by no other submission"
                      if self.same_wrong_unique else "")
            parts.append(f"both give the same wrong answer on {self.same_wrong} of {self.calls} calls{unique}; "
                         "no known mistake does")
        if self.same_error:
            parts.append(f"both raise the same error on {self.same_error} of {self.calls} calls")
        if self.same_mistake:
            parts.append(f"both make the same known mistake on {self.same_mistake} of {self.calls} calls "
                         "(a declared mistake: weak evidence)")
        if not parts:
            return (f"no rare answer in common (of {self.calls} calls, {self.same_right} answered as the "
                    "reference does)" if self.same_right else f"no rare answer in common (of {self.calls} calls)")
        return "; ".join(parts)


@dataclass(frozen=True)
class Cluster:
    exercise_id: str
    members: tuple[str, ...]
    pairs: int
    top_score: float


@dataclass
class _Tally:
    code: float = 0.0
    shared: int = 0
    unique: int = 0
    behaviour: float = 0.0
    counts: Counter[str] = field(default_factory=Counter)
    unique_wrong: int = 0


def common_limit(class_size: int) -> int:
    """How many submissions may hold an item before it counts as common."""
    return max(COMMON_AT_LEAST, math.ceil(COMMON_SHARE * class_size))


def rarity(holders: int, class_size: int) -> float:
    """1 for an item two submissions hold alone, falling to 0 as the class shares it."""
    if holders > common_limit(class_size) or holders < 2:
        return 0.0
    return min(1.0, math.log((class_size + 1) / holders) / math.log((class_size + 1) / 2))


def _postings(sets: Sequence[Iterable[Hashable]], class_size: int) -> dict[Hashable, list[int]]:
    """Each item held by 2..common_limit submissions, with who holds it."""
    holders: dict[Hashable, list[int]] = defaultdict(list)
    for index, items in enumerate(sets):
        for item in set(items):
            holders[item].append(index)
    limit = common_limit(class_size)
    return {item: who for item, who in holders.items() if 2 <= len(who) <= limit}


def rank_exercise(exercise_id: str, evidence: Sequence[Evidence], *, use_code: bool = True,
                  use_behaviour: bool = True, minimum: float = 0.0) -> list[Pair]:
    """The pairs sharing anything rare on one exercise, highest score first
    (then by names); pairs scoring below ``minimum`` are left out."""
    size = len(evidence)
    tallies: dict[tuple[int, int], _Tally] = defaultdict(_Tally)
    if use_code:
        for _, who in _postings([e.fingerprints for e in evidence], size).items():
            weight = rarity(len(who), size)
            for pair in combinations(who, 2):
                tally = tallies[pair]
                tally.code += weight
                tally.shared += 1
                tally.unique += len(who) == 2
    if use_behaviour:
        for mark, who in _postings([e.marks for e in evidence], size).items():
            kind = str(mark)[:1]
            weight = rarity(len(who), size) * ANSWER_WEIGHT.get(kind, 0.0)
            for pair in combinations(who, 2):
                tally = tallies[pair]
                tally.behaviour += weight
                tally.counts[kind] += 1
                tally.unique_wrong += kind == "w" and len(who) == 2
    pairs = [_pair(exercise_id, evidence[i], evidence[j], tally) for (i, j), tally in tallies.items()]
    kept = [p for p in pairs if p.score > 0 and p.score >= minimum]
    return sorted(kept, key=lambda p: (-p.score, p.a, p.b))


def _pair(exercise_id: str, first: Evidence, second: Evidence, tally: _Tally) -> Pair:
    a, b = sorted((first, second), key=lambda e: e.submission)
    smaller = max(min(len(a.fingerprints), len(b.fingerprints)), MIN_FINGERPRINTS)
    calls = min(len(a.marks), len(b.marks))
    code = min(1.0, tally.code / smaller)
    behaviour = min(1.0, tally.behaviour / max(calls, MIN_CALLS)) if calls else 0.0
    return Pair(exercise_id=exercise_id, a=a.submission, b=b.submission,
                score=round(1 - (1 - code) * (1 - behaviour), 4), code_score=round(code, 4),
                behaviour_score=round(behaviour, 4), shared_fingerprints=tally.shared,
                unique_fingerprints=tally.unique, fingerprints_a=len(a.fingerprints),
                fingerprints_b=len(b.fingerprints), calls=calls, same_wrong=tally.counts["w"],
                same_wrong_unique=tally.unique_wrong, same_mistake=tally.counts["m"],
                same_error=tally.counts["e"], same_right=_same_right(a.marks, b.marks))


def _same_right(first: Sequence[str], second: Sequence[str]) -> int:
    return len({m for m in first if m.startswith("r")} & {m for m in second if m.startswith("r")})


def clusters(pairs: Iterable[Pair], *, threshold: float) -> list[Cluster]:
    """Groups of submissions joined by pairs at or above ``threshold``, per
    exercise; largest first, then by their best pair."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def root(node: tuple[str, str]) -> tuple[str, str]:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    kept = [p for p in pairs if p.score >= threshold]
    for pair in kept:
        parent[root((pair.exercise_id, pair.a))] = root((pair.exercise_id, pair.b))
    groups: dict[tuple[str, str], list[Pair]] = defaultdict(list)
    for pair in kept:
        groups[root((pair.exercise_id, pair.a))].append(pair)
    found = [Cluster(exercise_id=group[0].exercise_id,
                     members=tuple(sorted({name for p in group for name in (p.a, p.b)})),
                     pairs=len(group), top_score=max(p.score for p in group)) for group in groups.values()]
    return sorted(found, key=lambda c: (c.exercise_id, -len(c.members), -c.top_score, c.members))


def rank_class(evidence: Mapping[str, Sequence[Evidence]], **options: object) -> dict[str, list[Pair]]:
    """``rank_exercise`` for each exercise."""
    return {exercise_id: rank_exercise(exercise_id, items, **options)  # type: ignore[arg-type]
            for exercise_id, items in evidence.items()}
