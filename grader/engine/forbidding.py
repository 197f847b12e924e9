"""Enforcing what an exercise forbids: the trusted side's half of ``[[exercises.forbid]]``.

The submission's source is read here, before its tests run, with
``grader.course.forbidden`` (nothing inside the sandbox is asked or
trusted). A test that asks for a function with a finding fails with the
*forbidden* verdict and the finding's words, so a forbidden use costs exactly
the points of the tests of the functions the rule names.
"""
from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from grader.course.catalogue import ExerciseSpec
from grader.course.forbidden import Finding, ForbidRule, describe, find_forbidden, notebook_place
from grader.course.submissions import Submission
from grader.engine.checks import GradeFailure
from grader.engine.protocol import Build, Inspect, Reply, Request
from grader.engine.subjects import Subject
from grader.sandbox.client import SandboxFailure
from grader.verdicts import Verdict


def findings_for(submission: Submission, spec: ExerciseSpec) -> dict[str, str]:
    """What each forbidding function of ``spec`` may not be graded for, as the
    message its tests fail with; empty when nothing is forbidden or found."""
    if not spec.forbid:
        return {}
    try:
        raw = submission.module_source(spec.filename)
    except (SandboxFailure, OSError):  # an unreadable file fails its tests as an import error anyway
        return {}
    if raw is None:
        return {}
    try:
        local = {Path(name).stem: source for name, source in submission.helper_sources().items()}
    except OSError:
        local = {}
    unread = {helper.stem for helper in submission.helpers} - set(local)
    return dict(_messages(raw, spec.forbid, spec.filename, spec.filename in submission.sources,
                          tuple(local.items()), frozenset(unread)))


@functools.lru_cache(maxsize=256)
def _messages(raw: bytes, rules: tuple[ForbidRule, ...], filename: str, notebook: bool,
              local: tuple[tuple[str, bytes], ...], unread: frozenset[str]) -> tuple[tuple[str, str], ...]:
    """``findings_for``'s messages, a pure function of the sources and the rules: read once for every
    submission of a class that hands in the same file (an untouched stub, a shared solution)."""
    # A notebook's module is UTF-8 made by the grader; a file is parsed from its bytes, as it is imported.
    place = notebook_place(raw.decode("utf-8")) if notebook else "line {}".format
    grouped: dict[tuple[str, ForbidRule], list[Finding]] = {}
    for finding in find_forbidden(raw, rules, module=Path(filename).stem,
                                  local_modules=unread, local_sources=dict(local)):
        grouped.setdefault((finding.function, finding.rule), []).append(finding)
    messages: dict[str, str] = {}
    for (function, _), found in grouped.items():
        messages[function] = "\n".join(filter(None, [messages.get(function), describe(found, place)]))
    return tuple(messages.items())


def requested_names(request: Request) -> Iterator[str]:
    """The submission's functions and classes a request asks for."""
    if isinstance(request, Inspect):
        yield from requested_names_of(request.build)
        return
    target = request.target
    if isinstance(target, Build):
        yield from requested_names_of(target)
        yield f"{target.target}.forward"
    else:
        yield target
    for value in (*request.args, *request.kwargs.values()):
        if isinstance(value, Build):
            yield from requested_names_of(value)


def requested_names_of(build: Build) -> Iterator[str]:
    yield build.target
    for value in (*build.args, *build.kwargs.values()):
        if isinstance(value, Build):
            yield from requested_names_of(value)


class ForbiddingStudent:
    """The student's subject for one exercise, refusing every request that
    asks for a function the source shows using what the exercise forbids."""

    def __init__(self, student: Subject, messages: Mapping[str, str]) -> None:
        self.student, self.messages = student, messages

    def run(self, request: Request) -> Reply:
        return self.run_many([request])[0]

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        # The sandbox answers first, so a file that cannot be imported (or a
        # room that dies) gets that verdict; an answer, right or not, is refused.
        replies = self.student.run_many(requests)
        for request in requests:
            # A rule on "Model" covers every request for it; one on "Model.forward", its calls.
            for name in requested_names(request):
                if name in self.messages:
                    # The findings are the code that shows the mistake; why it is one is the hint.
                    lines = self.messages[name].splitlines()
                    why = [line.removeprefix("Why: ") for line in lines if line.startswith("Why: ")]
                    raise GradeFailure("\n".join(line for line in lines if not line.startswith("Why: ")),
                                       hint="\n".join(why) or None, verdict=Verdict.FORBIDDEN)
        return replies


__all__ = ["ForbiddingStudent", "findings_for", "requested_names"]
