"""The student's side of a submission: its exercises, served by sandboxes.

``Rooms`` owns one submission's sandboxes. By default one room serves the
submission's exercises one after another: after each exercise the room
says what it changed that a later exercise could see (``tripwires``), and
any change, or a death, retires it, so the next exercise starts in a fresh
room as if the previous one were absent. ``share=False`` (``--isolate
exercise``) gives every exercise a room of its own.

``StudentExercise`` is one exercise of one submission, with its wall-clock
budget. A room that crashes or exits is replaced for the next test (so
later tests are graded honestly); an import error, a missing file or a
spent time budget fails every remaining test at once.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from grader.inert import shortened
from grader.verdicts import Verdict
from grader.sandbox import wire
from grader.course.catalogue import ExerciseSpec
from grader.sandbox.client import Budget, Citing, Sandbox, SandboxFailure, Zygote
from grader.sandbox.limits import Limits
from grader.engine.explain import citing, notebook_cells
from grader.engine.protocol import Reply, Request
from grader.engine.replies import CUT, MAX_NAME_CHARS, MalformedReply, read_reply
from grader.sandbox import captured
from grader.course.submissions import Submission
from grader.words import counted

MAX_RESTARTS = 5
MAX_CUT_NOTES = 3  # distinct notes on what was cut, per exercise
_STICKY_VERDICTS = {Verdict.NOT_SUBMITTED, Verdict.IMPORT_ERROR, Verdict.TIME_LIMIT}


@dataclass
class Rooms:
    """The sandboxes of one submission."""

    submission: Submission
    zygote: Zygote
    tenants: int = 1  # how many exercises one room may serve (its CPU-time limit grows with it)
    warm: tuple[str, ...] = ()  # zygote features every room needs (e.g. "optim")
    share: bool = True
    room: Sandbox | None = None

    def room_for(self, limits: Limits, budget: Budget) -> Sandbox:
        """A live, empty room with these limits: the current one, or a fresh one."""
        room = self.room
        if room is None or room.closed or room.limits != limits or room.tenant is not None:
            self.close()
            room = self.room = Sandbox.open(self.zygote, self.submission.helper_sources(), limits, budget,
                                            tenants=self.tenants if self.share else 1, warm=self.warm)
        return room

    def leave(self, room: Sandbox) -> list[str]:
        """An exercise is done with ``room``: what it left behind (then the room is retired)."""
        if room is not self.room or room.closed:
            return []
        if not self.share:
            self.close()
            return []
        return room.release()

    def close(self) -> None:
        if self.room is not None:
            self.room.close()
            self.room = None


@dataclass
class StudentExercise:
    submission: Submission
    exercise: ExerciseSpec
    rooms: Rooms
    limits: Limits
    budget: Budget = field(init=False)
    sandbox: Sandbox | None = None
    failure: SandboxFailure | None = None  # sticky: every later request fails with it
    restarts: int = 0
    output: str = ""
    dropped: int = 0
    left_behind: tuple[str, ...] = ()  # what the exercise changed in its room (see tripwires)
    cuts: list[str] = field(default_factory=list)  # what of its answers was cut to size (a few, for notes)
    cut_count: int = 0

    def __post_init__(self) -> None:
        self.budget = Budget.for_limits(self.limits)
        if self.submission.files.get(self.exercise.filename) is None:
            why = self.submission.problem or f"{self.exercise.filename} was not submitted"
            self.failure = SandboxFailure(Verdict.NOT_SUBMITTED, why)

    @property
    def submitted(self) -> bool:
        return self.exercise.filename in self.submission.files

    def run(self, request: Request) -> Reply:
        return self.run_many([request])[0]

    def run_many(self, requests: Sequence[Request]) -> list[Reply]:
        sandbox = self._live_sandbox()

        def doing() -> str:  # words made only for a failure's message
            return f"running {requests[0].describe()}" + (f" and {len(requests) - 1} more" if len(requests) > 1 else "")

        answers: list[object] | None = None
        replies: list[Reply] = []
        try:
            if len(requests) == 1:
                answers = [sandbox.request_encoded(requests[0].encoded, doing=doing)]
            else:
                header = wire.encode({"op": "many", "count": len(requests)})
                answers = _many(sandbox.request_encoded(header, *(r.encoded for r in requests), doing=doing),
                                len(requests))
            for request, answer in zip(requests, answers, strict=True):
                replies.append(self._read(request, answer))
            return replies
        except MalformedReply as error:
            # Only this answer fails: the frame was read whole, so the room is
            # still in step, and every later answer is read the same way.
            answering = f"to {requests[len(replies)].describe()}" if answers is not None else f"while {doing()}"
            raise SandboxFailure(Verdict.SANDBOX_ERROR,
                                 f"the sandbox sent a malformed answer {answering}: {error}") from None
        except SandboxFailure as failure:
            if failure.verdict in _STICKY_VERDICTS:
                self.failure = failure
            raise
        finally:
            self._collect(sandbox)

    def _read(self, request: Request, answer: object) -> Reply:
        """The answer checked against its request (see replies); notes what was cut."""
        reply, cuts = read_reply(request, answer)
        for cut in cuts:
            if len(self.cuts) < MAX_CUT_NOTES and cut not in self.cuts:
                self.cuts.append(cut)
        self.cut_count += len(cuts)
        return reply

    def _live_sandbox(self) -> Sandbox:
        if self.failure is not None:
            raise self.failure
        if self.sandbox is not None and not self.sandbox.closed:
            return self.sandbox
        if self.sandbox is not None:
            self.restarts += 1
            if self.restarts > MAX_RESTARTS:
                self.failure = SandboxFailure(Verdict.CRASHED,
                                              "the submission's sandbox died too many times; not restarting it")
                raise self.failure
        try:
            source = self.submission.module_source(self.exercise.filename)  # a notebook that is no module fails here
            if source is None:  # __post_init__ made that a failure already; kept for the type
                raise SandboxFailure(Verdict.NOT_SUBMITTED, f"{self.exercise.filename} was not submitted")
            self.sandbox = self.rooms.room_for(self.limits, self.budget)
            shown_as, cite = self._citing()
            self.sandbox.load(self.exercise.filename, source, self.budget, shown_as=shown_as, cite=cite)
        except SandboxFailure as failure:
            if failure.verdict != Verdict.CRASHED or self.restarts >= MAX_RESTARTS:
                self.failure = failure  # importing again would fail the same way
            raise
        finally:
            if self.sandbox is not None:
                self._collect(self.sandbox)
        return self.sandbox

    def _citing(self) -> tuple[str, Citing]:
        """The file's name as the student knows it, and how an error in it is
        cited: its own file and line, or a notebook's cell and line."""
        filename = self.exercise.filename
        submitted = self.submission.files.get(filename)
        shown_as = submitted.name if submitted is not None else filename
        notebook = self.submission.sources.get(filename)
        cells = notebook_cells(notebook.decode("utf-8", "replace")) if notebook is not None else None
        return shown_as, citing(filename, shown_as=shown_as, cells=cells)

    def _collect(self, sandbox: Sandbox) -> None:
        # The exercise's share of output, however many rooms and requests it took.
        self.output, self.dropped = captured.append(self.output, self.dropped, *sandbox.take_output(),
                                                    self.limits.output_kb << 10)

    def close(self) -> None:
        """The exercise's last test ran: hand its room back."""
        if self.sandbox is not None:
            self.left_behind = tuple(self.rooms.leave(self.sandbox))
            self._collect(self.sandbox)
            self.sandbox = None

    def notes(self) -> tuple[str, ...]:
        notes = []
        if self.dropped:
            notes.append(f"output truncated: {self.dropped:,} characters beyond the first "
                         f"{self.limits.output_kb} KB were dropped")
        if self.restarts:
            notes.append(f"the sandbox was restarted {counted(self.restarts, 'time')} after it died "
                         "or broke the protocol")
        if self.cuts:
            more = self.cut_count - len(self.cuts)
            notes.append("the submission's answers were cut to size: " + "; ".join(self.cuts)
                         + (f"; and {more:,} more" if more > 0 else ""))
        if self.left_behind:  # the room's own words: bounded here
            notes.append("this exercise changed its sandbox in ways a later exercise could see ("
                         + "; ".join(_bounded(d) for d in self.left_behind[:3])
                         + "): the next exercise was graded in a fresh sandbox")
        return tuple(captured.printable(note) for note in notes)


def _many(reply: Mapping[str, object], count: int) -> list[object]:
    """The answers inside a "many" reply: exactly ``count`` of them."""
    if set(reply) != {"replies"}:
        raise MalformedReply("the answer to several requests holds more than their answers")
    replies = reply["replies"]
    if type(replies) is not list:
        raise MalformedReply(f"the answers to {count} requests are not a list")
    if len(replies) != count:
        raise MalformedReply(f"{len(replies)} answers came back for {count} requests")
    return replies


def _bounded(text: str) -> str:
    return shortened(text, MAX_NAME_CHARS + len(CUT), mark=CUT)  # the name's first MAX_NAME_CHARS, marked
