"""The pytest plugin that turns hidden suites into grades.

One pytest session grades many submissions: every hidden test is
parametrized over the submissions, items are ordered submission by
submission, and each submission's exercises are served by its own
sandboxes (``student.Rooms``): one room in turn, or one per exercise.
Results are gathered from reports by hooks; when a submission's last test ends, its ``SubmissionResult`` is handed to
``on_result`` (so a batch can write it at once).

Fixtures for suites: ``check`` (compare student with reference), ``student``,
``reference``, ``rng`` (a seeded ``torch.Generator``), ``exercise`` (its spec).
Marker: ``@pytest.mark.points(n)``.
"""
from __future__ import annotations

import hashlib
import logging
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pytest
import torch

from grader.verdicts import Verdict
from grader.words import Scope, Visibility
from grader.course.catalogue import Course, ExerciseSpec
from grader.engine.answer_marks import answer_marks
from grader.engine.checks import Check, GradeFailure, Judgement
from grader.engine.explain import notebook_cells
from grader.engine.forbidding import ForbiddingStudent, findings_for
from grader.sandbox.captured import printable
from grader.sandbox.client import SandboxFailure, Zygote, ZygoteError
from grader.sandbox.limits import Limits
from grader.engine.recordings import MissingRecording
from grader.engine.curves import first_curves
from grader.results import ExerciseResult, LossCurve, SandboxStatus, SubmissionResult, TestResult
from grader.status import Status
from grader.engine.student import Rooms, StudentExercise
from grader.engine.subjects import ReferenceSource, Subject
from grader.course.submissions import Submission
from grader.course.warming import warm_features


_log = logging.getLogger("torchgrade")


def seed_for(seed: int, exercise_id: str, test_name: str) -> int:
    """Each test's inputs come from its own stream, so tests don't shift each other."""
    digest = hashlib.sha256(f"{seed}:{exercise_id}:{test_name}".encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


@dataclass
class _AnsweredTest:
    """A test that ran, not yet judged: its report's fields, its checks' answers
    in the order they were asked, and what it raised (its failure fields)."""

    fields: dict[str, Any]
    judgements: list[Judgement]
    raised: dict[str, Any] | None = None

    def judged(self) -> TestResult:
        """The first check whose answers differ fails the test, as if it had
        raised where it was asked; else what the test raised; else it passed."""
        fields = {**self.fields, "curves": self._curves()}
        for judgement in self.judgements:
            try:
                failure = judgement.failure()
            except Exception as error:  # noqa: BLE001 - a bug of the grader: its words, for this test only
                return TestResult(**fields, passed=False, **_failure_fields(error))
            if failure is not None:
                return TestResult(**fields, passed=False, **_failure_fields(failure))
        if self.raised is not None:
            return TestResult(**fields, passed=False, **self.raised)
        return TestResult(**fields, passed=True)

    def _curves(self) -> tuple[LossCurve, ...]:
        """Losses per epoch the answers hold, the student's against the reference's (engine/curves.py)."""
        if not self.judgements:
            return ()
        check = self.judgements[0].check
        pairs = [(want.value, got.value) for j in self.judgements
                 for want, got in zip(j.expected, j.answers, strict=True) if want.error is None]
        try:
            return first_curves(pairs, rtol=check.rtol, atol=check.atol, reveal_values=check.reveal_values)
        except Exception:  # noqa: BLE001 - a picture never costs a grade
            _log.exception("loss curves failed")
            return ()


@dataclass
class _SubmissionState:
    started: float
    rooms: Rooms
    exercises: dict[str, StudentExercise] = field(default_factory=dict)
    # Judged only when the submission's rooms are closed: nothing a room sees depends on its verdicts.
    tests: dict[str, list[_AnsweredTest]] = field(default_factory=dict)
    ledgers: dict[str, list[Judgement]] = field(default_factory=dict)  # by test node id
    # What each exercise's source uses that it forbids, by function (read once, here, never in the room).
    forbidden: dict[str, dict[str, str]] = field(default_factory=dict)


class GradingPlugin:
    def __init__(self, course: Course, exercises: Sequence[ExerciseSpec], submissions: Sequence[Submission],
                 references: ReferenceSource, zygote: Zygote, seed: int, sandbox: SandboxStatus,
                 limits: Callable[[ExerciseSpec], Limits],
                 on_result: Callable[[SubmissionResult], None], share_rooms: bool = True,
                 public_only: bool = False) -> None:
        self.course, self.exercises, self.submissions = course, list(exercises), list(submissions)
        self.references, self.zygote, self.seed, self.sandbox = references, zygote, seed, sandbox
        self.limits, self.on_result, self.share_rooms = limits, on_result, share_rooms
        self.public_only = public_only  # only the tests marked public are collected
        self._by_suite = {spec.suite.resolve(): spec for spec in exercises}
        self._by_path: dict[Path, ExerciseSpec | None] = {}
        self._states: dict[int, _SubmissionState] = {}
        self.collection_errors: list[str] = []
        self.zygote_lost: str | None = None  # why the session stopped: no sandbox can be forked any more
        self._running: pytest.Item | None = None  # the test pytest is running, for the fixtures

    # -- collection ---------------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "points(n): points a hidden test is worth")
        config.addinivalue_line("markers", "public: a test shipped in the student copy of the course")
        config.addinivalue_line("markers", "hidden: a test run only where the course grades")

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "tg_submission" in metafunc.fixturenames:
            metafunc.parametrize("tg_submission", range(len(self.submissions)),
                                 ids=[s.name for s in self.submissions])

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        order = {spec.id: n for n, spec in enumerate(self.exercises)}
        position = {id(item): n for n, item in enumerate(items)}
        items[:] = [i for i in items if self._exercise_of(i) is not None
                    and (not self.public_only or self._visibility(i) == "public")]
        items.sort(key=lambda i: (self._submission_index(i), order[self._exercise(i).id], position[id(i)]))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.collection_errors.append(str(report.longrepr))

    # -- fixtures -----------------------------------------------------------
    # Each fixture finds its test in ``_running`` rather than in pytest's ``request``: pytest builds
    # a fixture definition (and a function signature) for every use of ``request``, ~8 per test here,
    # and every fixture asked for in between costs a round of pytest's fixture machinery.
    @pytest.fixture
    def tg_submission(self) -> int:
        raise RuntimeError("hidden suites run only through grader.engine.runner")

    @pytest.fixture
    def exercise(self) -> ExerciseSpec:
        return self._exercise(self._running_item())

    @pytest.fixture
    def student(self, tg_submission: int) -> StudentExercise:
        return self._student(tg_submission, self._exercise(self._running_item()))

    @pytest.fixture
    def reference(self) -> Subject:
        return self.references.reference(self._exercise(self._running_item()))

    @pytest.fixture
    def rng(self) -> torch.Generator:
        item = self._running_item()
        name = getattr(item, "originalname", item.name)  # a pytest.Function's, without its parameters
        return torch.Generator().manual_seed(seed_for(self.seed, self._exercise(item).id, name))

    @pytest.fixture
    def check(self, tg_submission: int) -> Check:
        item = self._running_item()
        exercise = self._exercise(item)
        student = self._student(tg_submission, exercise)
        reference = self.references.reference(exercise)
        state = self._state(tg_submission)
        if exercise.id not in state.forbidden:
            state.forbidden[exercise.id] = findings_for(self.submissions[tg_submission], exercise)
        forbidden = state.forbidden[exercise.id]
        submission = self.submissions[tg_submission]
        submitted = submission.files.get(exercise.filename)
        notebook = submission.sources.get(exercise.filename)
        ledger = state.ledgers.setdefault(item.nodeid, [])
        return Check(student=ForbiddingStudent(student, forbidden) if forbidden else student, reference=reference,
                     mistakes=lambda: self.references.mistakes(exercise), rtol=exercise.rtol, atol=exercise.atol,
                     reveal_values=self._reveals_values(item, exercise),
                     student_file=exercise.filename, shown_as=submitted.name if submitted else None,
                     cells=notebook_cells(notebook.decode("utf-8", "replace")) if notebook is not None else None,
                     source=lambda: _module_text(submission, exercise.filename), ledger=ledger)

    def _running_item(self) -> pytest.Item:
        if self._running is None:
            raise RuntimeError("the grading fixtures serve only the tests of a grading session")
        return self._running

    def _student(self, index: int, exercise: ExerciseSpec) -> StudentExercise:
        """The submission's exercise, made at its first test and kept for the others."""
        state = self._state(index)
        if exercise.id not in state.exercises:
            state.exercises[exercise.id] = StudentExercise(
                self.submissions[index], exercise, state.rooms, self.limits(exercise))
        return state.exercises[exercise.id]

    # -- running and reporting -----------------------------------------------
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> bool:
        """pytest's own protocol (``_pytest.runner.runtestprotocol``: setup, the call unless setup failed,
        teardown, each through its hook) without what no one here reads: reports and the log hooks (and
        so each test's location, worked out per test): ~100 us a test. Results come from ``_account``."""
        hooks = item.ihook
        self._running = item
        try:
            setup = _phase(lambda: hooks.pytest_runtest_setup(item=item), "setup")
            self._account(item, setup)
            if setup.excinfo is None:
                self._account(item, _phase(lambda: hooks.pytest_runtest_call(item=item), "call"))
            # As pytest does: a stopping session tears everything down.
            after = None if item.session.shouldfail or item.session.shouldstop else nextitem
            self._account(item, _phase(lambda: hooks.pytest_runtest_teardown(item=item, nextitem=after), "teardown"))
        finally:  # an interruption goes on up: this submission is unfinished and is not reported
            self._running = None
            if isinstance(item, pytest.Function):
                item.funcargs = None  # type: ignore[assignment]  # as pytest does: the test's fixture values go
        if not item.session.shouldstop:
            self._done(item, nextitem)
        return True

    def _account(self, item: pytest.Item, call: pytest.CallInfo[None]) -> None:
        """What one phase of a test says: a test's result (its call, or its setup when that failed), or that
        the sandboxes are gone."""
        error = call.excinfo.value if call.excinfo is not None else None
        if isinstance(error, ZygoteError):
            # Not this test's result, nor the submission's: the sandboxes are gone (the zygote died, or its
            # worker is shutting down). The session stops; this submission stays unfinished, for a retry.
            self.zygote_lost = str(error).splitlines()[0]
            item.session.shouldstop = self.zygote_lost
        elif call.when == "call" or (call.when == "setup" and error is not None):
            self._record(item, call, passed=error is None)
        elif error is not None:
            _failure_fields(error)  # a failed teardown: a suite's fixture; the instructor's log says which

    def _done(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """A test ran: an exercise's last test hands its room back; a submission's last one finishes it."""
        index, spec = self._submission_index(item), self._exercise(item)
        next_index = self._submission_index(nextitem) if nextitem else None
        next_spec = self._exercise_of(nextitem) if nextitem else None
        state = self._state(index)
        if next_index != index:  # the submission's last exercise: nothing comes after it in the room
            state.rooms.close()
            if spec.id in state.exercises:
                state.exercises[spec.id].close()
            self._finish(index)
        elif next_spec != spec and spec.id in state.exercises:
            state.exercises[spec.id].close()

    def _record(self, item: pytest.Item, call: pytest.CallInfo[None], passed: bool) -> None:
        marker = item.get_closest_marker("points")
        max_points = float(marker.args[0]) if marker else 0.0
        name = getattr(item, "originalname", item.name)  # a pytest.Function's, without its parameters
        title = docstring_title(getattr(item, "function", None).__doc__, name)
        fields: dict[str, Any] = dict(name=name, title=title,
                                      max_points=max_points, visibility=self._visibility(item))
        raised = _failure_fields(call.excinfo.value) if not passed and call.excinfo is not None else None
        state = self._state(self._submission_index(item))
        answered = _AnsweredTest(fields, state.ledgers.pop(item.nodeid, []), raised)
        state.tests.setdefault(self._exercise(item).id, []).append(answered)

    def _finish(self, index: int) -> None:
        state = self._states.pop(index, None)
        if state is None:
            return
        submission = self.submissions[index]
        exercises = []
        for spec in self.exercises:
            runner = state.exercises.get(spec.id)
            tests = tuple(answered.judged() for answered in state.tests.get(spec.id, ()))
            problem = submission.problem
            if problem is None and runner is not None and runner.failure is not None \
                    and runner.failure.verdict in (Verdict.NOT_SUBMITTED, Verdict.IMPORT_ERROR):
                problem = bounded_message(runner.failure.message)
            submitted = runner.submitted if runner else spec.filename in submission.files
            exercises.append(ExerciseResult(
                exercise_id=spec.id, title=spec.title, tests=tests, seed=self.seed,
                status=_exercise_status(submission, submitted), problem=problem, output=runner.output if runner else "",
                notes=(*submission.notes, *(runner.notes() if runner else ())),
                scope=Scope.PUBLIC if self.public_only else Scope.ALL,
                answers=_answer_marks(state.tests.get(spec.id, ())),
            ))
        self.on_result(SubmissionResult(submission=submission.name, exercises=tuple(exercises), seed=self.seed,
                                        sandbox=self.sandbox, elapsed_s=round(time.monotonic() - state.started, 3)))

    def finish_all(self) -> None:
        """Close whatever an interrupted session left open."""
        for index in list(self._states):
            try:
                self._states.pop(index).rooms.close()
            except ZygoteError:
                pass  # its sandboxes went with the zygote

    def _reveals_values(self, item: pytest.Item, exercise: ExerciseSpec) -> bool:
        """Expected values are shown where they are public already: a public
        test at the course's seed (a student copy holds its answers), or where
        the course reveals them. At a grading seed they would be answers to
        copy into a resubmission."""
        public = self._visibility(item) == "public" and self.seed == self.course.seed
        return public or exercise.hidden_reveals == "values"

    def _visibility(self, item: pytest.Item) -> Visibility:
        for visibility in Visibility:
            if item.get_closest_marker(visibility.value):
                return visibility
        return self._exercise(item).visibility

    def _state(self, index: int) -> _SubmissionState:
        if index not in self._states:
            # Every room can serve every exercise: warm what any of them needs, and the libraries it names.
            warm = warm_features(self.course, self.submissions[index], self.exercises)
            rooms = Rooms(self.submissions[index], self.zygote, tenants=len(self.exercises), warm=warm,
                          share=self.share_rooms)
            self._states[index] = _SubmissionState(started=time.monotonic(), rooms=rooms)
        return self._states[index]

    def _exercise(self, item: pytest.Item) -> ExerciseSpec:
        """The exercise of an item kept by pytest_collection_modifyitems (which drops the others)."""
        spec = self._exercise_of(item)
        if spec is None:
            raise RuntimeError(f"{item.nodeid} belongs to no exercise of this run")
        return spec

    def _exercise_of(self, item: pytest.Item) -> ExerciseSpec | None:
        path = item.path  # items of one suite share it: resolve each path once
        if path not in self._by_path:
            self._by_path[path] = self._by_suite.get(Path(path).resolve())
        return self._by_path[path]

    @staticmethod
    def _submission_index(item: pytest.Item) -> int:
        return item.callspec.params["tg_submission"] if hasattr(item, "callspec") else -1


def _phase(run: Callable[[], object], when: Literal["setup", "call", "teardown"]) -> pytest.CallInfo[None]:
    """One phase of a test, run as pytest runs it: what it raised is kept, but an interruption and
    ``pytest.exit`` go on up."""
    return pytest.CallInfo.from_call(run, when, reraise=(pytest.exit.Exception, KeyboardInterrupt))  # type: ignore[arg-type]


def _module_text(submission: Submission, filename: str) -> str | None:
    """The module the room imports for ``filename``, as text, or None when there is none."""
    try:
        module = submission.module_source(filename)
    except SandboxFailure:
        return None
    return module.decode("utf-8", "replace") if module is not None else None


def _exercise_status(submission: Submission, submitted: bool) -> Status:
    """What became of an exercise, decided here, once: a submission with a problem (an unsafe zip, no
    exercise file at all, ...) was refused as a whole; else its file was graded or not handed in."""
    if submission.problem is not None:
        return Status.REFUSED
    return Status.GRADED if submitted else Status.NOT_SUBMITTED


def docstring_title(docstring: str | None, name: str) -> str:
    """A test's title: the first paragraph of its docstring, all of it on one
    line (a docstring's first line often stops mid-sentence), or its name."""
    paragraph = (docstring or "").strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split()) or name


def _answer_marks(tests: Sequence[_AnsweredTest]) -> tuple[str, ...]:
    """The marks of every call an exercise's tests made (for similarity); a
    failure to make them costs the marks, never the grade."""
    try:
        return answer_marks(judgement for test in tests for judgement in test.judgements)
    except Exception:  # noqa: BLE001 - a bug of ours: logged, and the exercise keeps its grade
        _log.exception("could not mark the answers")
        return ()


def _failure_fields(error: BaseException) -> dict[str, Any]:
    """What a student's report says about a failed test: never more than
    MAX_MESSAGE_CHARS, and never a hidden suite's source, path or function."""
    fields: dict[str, Any]
    if isinstance(error, GradeFailure):
        fields = dict(message=error.message, hint=error.hint, table=error.table, verdict=error.verdict)
    elif isinstance(error, SandboxFailure):
        fields = dict(message=error.message, verdict=error.verdict)
    elif isinstance(error, MissingRecording):
        fields = dict(message=str(error), verdict=Verdict.NOT_RECORDED)
    elif isinstance(error, AssertionError):
        fields = dict(message=_assertion_message(error))
    else:
        # A bug of the grader or a suite: its traceback runs through the hidden
        # suite (path, function, source lines), so it goes to the grader's log
        # for the instructor, and the student reads that it was not their fault.
        _log.error("grader error in a hidden test:\n%s",
                   "".join(traceback.format_exception(type(error), error, error.__traceback__)))
        fields = dict(message=GRADER_ERROR_MESSAGE, verdict=Verdict.GRADER_ERROR)
    fields["message"] = bounded_message(fields["message"])
    return fields


GRADER_ERROR_MESSAGE = ("the grader itself failed on this test; this is not the submission's fault "
                        "(the instructor's log has the details)")
MAX_MESSAGE_CHARS = 4000  # one failed test's message in a report


def _assertion_message(error: AssertionError) -> str:
    """A suite's own ``assert``: pytest rewrites its message to quote the
    suite's source ("assert reply.value == 3 + where ..."); only the words the
    suite's author wrote for students are shown."""
    text = str(error)
    said, _, _ = text.partition("\nassert ")
    if not text or text.startswith("assert "):
        _log.info("a hidden test's assertion failed: %s", text)
        return "a check of the hidden test failed"
    return said


def bounded_message(text: str) -> str:
    """``text`` cut to MAX_MESSAGE_CHARS, saying so, and writable in any report."""
    if len(text) <= MAX_MESSAGE_CHARS:
        return printable(text)
    return printable(f"{text[:MAX_MESSAGE_CHARS]}… (cut: the message had {len(text):,} characters)")
