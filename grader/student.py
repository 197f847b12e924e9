"""The student's side of one exercise: a subject that lives in a sandbox.

``StudentExercise`` owns the sandbox(es) of one submission's exercise and its
wall-clock budget. A sandbox that crashes or exits is replaced for the next
test (so later tests are graded honestly); an import error, a missing file or
a spent time budget fails every remaining test at once.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from grader.catalogue import ExerciseSpec
from grader import wire
from grader.isolation import Budget, Sandbox, SandboxFailure, Zygote
from grader.limits import Limits
from grader.protocol import Reply, Request
from grader.submissions import Submission

MAX_RESTARTS = 5
_STICKY_VERDICTS = {"not submitted", "import error", "time limit"}


@dataclass
class StudentExercise:
    submission: Submission
    exercise: ExerciseSpec
    zygote: Zygote
    limits: Limits
    warm: tuple[str, ...] = ()
    budget: Budget = field(init=False)
    sandbox: Sandbox | None = None
    failure: SandboxFailure | None = None  # sticky: every later request fails with it
    restarts: int = 0
    output: str = ""
    dropped: int = 0

    def __post_init__(self) -> None:
        self.budget = Budget(self.limits.timeout_s)
        if self.submission.files.get(self.exercise.filename) is None:
            why = self.submission.problem or f"{self.exercise.filename} was not submitted"
            self.failure = SandboxFailure("not submitted", why)

    @property
    def submitted(self) -> bool:
        return self.exercise.filename in self.submission.files

    def run(self, request: Request) -> Reply:
        return self.run_many([request])[0]

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        sandbox = self._live_sandbox()
        doing = f"running {requests[0].describe()}" + (f" and {len(requests) - 1} more" if len(requests) > 1 else "")
        try:
            if len(requests) == 1:
                return [Reply.from_plain(sandbox.request_encoded(requests[0].encoded, doing=doing))]
            header = wire.encode({"op": "many", "count": len(requests)})
            reply = sandbox.request_encoded(header, *(r.encoded for r in requests), doing=doing)
        except SandboxFailure as failure:
            self._collect(sandbox)
            if failure.verdict in _STICKY_VERDICTS:
                self.failure = failure
            raise
        replies = reply.get("replies")
        if type(replies) is not list or len(replies) != len(requests) or not all(type(r) is dict for r in replies):
            sandbox.close()
            raise SandboxFailure("sandbox error", f"malformed reply while {doing}")
        return [Reply.from_plain(r) for r in replies]

    def _live_sandbox(self) -> Sandbox:
        if self.failure is not None:
            raise self.failure
        if self.sandbox is not None and not self.sandbox.closed:
            return self.sandbox
        if self.sandbox is not None:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                self.failure = SandboxFailure("crashed", "the submission's sandbox died too many times; not restarting it")
                raise self.failure
        try:
            sources = self.submission.sources_for(self.exercise.filename)  # a notebook that is no module fails here
            self.sandbox = Sandbox.open(self.zygote, sources, self.exercise.filename, self.limits,
                                        self.budget, warm=self.warm)
        except SandboxFailure as failure:
            if failure.verdict != "crashed" or self.restarts >= MAX_RESTARTS:
                self.failure = failure  # importing again would fail the same way
            raise
        return self.sandbox

    def _collect(self, sandbox: Sandbox) -> None:
        if sandbox.output:
            self.output += sandbox.output
            sandbox.output = ""
        self.dropped += sandbox.dropped
        sandbox.dropped = 0

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self._collect(self.sandbox)

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.dropped:
            notes.append(f"output truncated: {self.dropped:,} characters beyond the first "
                         f"{self.limits.output_kb} KB were dropped")
        if self.restarts:
            notes.append(f"the sandbox was restarted {self.restarts} time(s) after it died")
        return tuple(notes)
