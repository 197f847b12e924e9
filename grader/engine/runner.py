"""Grade submissions: the zygote first, then one pytest session over the hidden suites.

The order matters (ARCHITECTURE.md: zygote first; ``session`` holds it): the zygote is started before
this process imports any solution or suite, and it is a separate, fresh
interpreter, so no sandbox can ever find them in memory. The solutions and
suites this process runs are read once (``snapshot.CourseFiles``) before the
first sandbox (the canary) exists, and run from those bytes.
"""
from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import torch

from grader.course.catalogue import Course, ExerciseSpec
from grader.sandbox.client import Zygote, ZygoteLost
from grader.sandbox.limits import Limits
from grader.sandbox.untrusted import lazy_dynamo
from grader.options import GradeOptions, GraderError, Isolation
from grader.results import SandboxStatus, SubmissionResult
from grader.engine.snapshot import CourseFiles
from grader.engine.subjects import LiveSolutions, ReferenceSource
from grader.course.submissions import Submission
from grader.engine.plugin import GradingPlugin

_PYTEST_ARGS = [
    "-p", "no:cacheprovider", "-p", "no:terminal", "-p", "no:warnings", "-p", "no:legacypath",
    "-p", "no:doctest", "-p", "no:junitxml", "-p", "no:pastebin", "-p", "no:stepwise",
    # Each of these costs per test item; unraisableexception runs two full
    # gc passes over torch's heap per session (ARCHITECTURE.md, measured).
    "-p", "no:logging", "-p", "no:unraisableexception", "-p", "no:threadexception", "-p", "no:faulthandler",
    "--noconftest", "-s", "-o", "python_files=test_*.py", "-o", "addopts=",
    # Suites are files, not packages: two courses may both have test_exercise6.py.
    "--import-mode=importlib",
]
lazy_dynamo.install()  # this process's optimizers need no torch._dynamo (~1.3 s of CPU)


@dataclass
class GradeRun:
    results: list[SubmissionResult] = field(default_factory=list)
    sandbox: SandboxStatus = field(default_factory=SandboxStatus)


def grade(course: Course, submissions: Sequence[Submission], exercises: Sequence[ExerciseSpec], *,
          options: GradeOptions = GradeOptions(), zygote: Zygote | None = None,  # noqa: B008 - frozen
          references: ReferenceSource | None = None,
          on_result: Callable[[SubmissionResult], None] | None = None,
          keep_results: bool = True, expected_files: Mapping[str, str] | None = None,
          sandbox: SandboxStatus | None = None) -> GradeRun:
    """Grade every submission on every given exercise in one pytest session.

    Pass a ``zygote`` started as early as possible (before importing torch)
    to overlap its start-up with this process's; otherwise one is started here.
    ``expected_files``: the suites' and solutions' fingerprints taken when a
    larger run (a batch) started; any difference is a GraderError.
    ``sandbox``: what the canary found when this zygote's first run started
    (a warm session's later runs skip trying its walls again).
    """
    own_zygote = zygote is None
    zygote = zygote or Zygote.start()
    run = GradeRun()
    threads = _one_thread()
    try:
        # Before the first sandbox (the canary): what this process will run, read once.
        files = CourseFiles.read(exercises, expected=expected_files)
        references = references or _with_answer_cache(default_references(course, files), course, options)
        _read_references_now(references, exercises)
        limits_for = _limits_resolver(options)
        run.sandbox = sandbox or zygote.canary(limits_for(exercises[0]) if exercises else Limits())
        if options.require_sandbox and run.sandbox.missing:
            raise GraderError("refusing to grade without a complete sandbox (--require-sandbox):\n  "
                              + "\n  ".join(run.sandbox.missing))

        def collect(result: SubmissionResult) -> None:
            if keep_results:
                run.results.append(result)
            if on_result is not None:
                on_result(result)

        plugin = GradingPlugin(course, exercises, submissions, references, zygote,
                               seed=course.seed if options.seed is None else options.seed,
                               sandbox=run.sandbox, limits=limits_for, on_result=collect,
                               share_rooms=options.isolate is not Isolation.EXERCISE,
                               public_only=options.public_only or course.is_student_copy)
        args = [*_PYTEST_ARGS, "--rootdir", str(course.root), *(str(spec.suite) for spec in exercises)]
        captured = io.StringIO()
        previous = os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
        os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no third-party plugin may join the session
        try:
            with contextlib.redirect_stdout(captured), files.serving_suites(s.suite for s in exercises) as snapshot:
                code = pytest.main(args, plugins=[plugin, snapshot])
        finally:
            plugin.finish_all()
            _forget_suites(exercises)
            if previous is None:
                os.environ.pop("PYTEST_DISABLE_PLUGIN_AUTOLOAD", None)
            else:
                os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = previous
        if plugin.zygote_lost is not None:  # every submission finished before it was reported; not the rest
            raise ZygoteLost(plugin.zygote_lost)
        if plugin.collection_errors or code in (pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.USAGE_ERROR,
                                                pytest.ExitCode.INTERRUPTED):
            if code == pytest.ExitCode.INTERRUPTED and not plugin.collection_errors:
                raise KeyboardInterrupt
            raise GraderError("the hidden suites could not run:\n" + "\n".join(plugin.collection_errors)
                              + captured.getvalue()[-4000:])
        files.verify()  # a change is never used; it is still worth a loud word
        _save_answers(references)
    finally:
        torch.set_num_threads(threads)
        if own_zygote:
            zygote.close()
    return run


def _one_thread() -> int:
    """This process's torch work (references, mistakes, comparisons) is on small
    tensors: a pool of threads only spins against the rooms and the other
    workers (cross_entropy + backward on 30 rows: ~0.15-1.3 ms of CPU with two
    threads on a loaded 2-core machine, ~0.05 ms with one). Rooms run with one
    thread too (the zygote). Returns the number to restore."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    return threads


def _forget_suites(exercises: Sequence[ExerciseSpec]) -> None:
    """pytest's importlib mode names a suite module by its path under the
    rootdir and reuses a module already imported under that name: another
    course's suites/test_exercise3.py (a student copy's) would be
    graded with this course's tests. So no suite outlives its session."""
    suites = {spec.suite.resolve() for spec in exercises}
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and name.rpartition(".")[2].startswith("test") and Path(file).resolve() in suites:
            del sys.modules[name]


def default_references(course: Course, files: CourseFiles | None = None) -> ReferenceSource:
    """The live solutions (compiled from ``files``), or the recorded values a student copy ships with."""
    if course.recordings is not None:
        from grader.engine.recordings import RecordedSolutions  # noqa: PLC0415

        return RecordedSolutions(course.recordings)
    return LiveSolutions(files)


def _with_answer_cache(references: ReferenceSource, course: Course, options: GradeOptions) -> ReferenceSource:
    """Live solutions with their answers kept between runs, when the options ask for it and a cache folder
    no room can read exists."""
    if not options.answer_cache or not isinstance(references, LiveSolutions):
        return references
    from grader.engine.answer_cache import CachedSolutions, cache_folder  # noqa: PLC0415

    folder = cache_folder()
    seed = course.seed if options.seed is None else options.seed
    return references if folder is None else CachedSolutions(references, folder, seed)


def _save_answers(references: ReferenceSource) -> None:
    from grader.engine.answer_cache import CachedSolutions  # noqa: PLC0415

    if isinstance(references, CachedSolutions):
        references.save()


def _read_references_now(references: ReferenceSource, exercises: Sequence[ExerciseSpec]) -> None:
    """Whatever a reference source reads from disk (recorded values, or a
    solution not in the snapshot), it reads now, before any sandbox exists;
    each caches what it read for the whole run."""
    if isinstance(references, LiveSolutions) and references.files is not None:
        return  # compiled from the snapshot when first needed
    for spec in exercises:
        try:
            references.reference(spec)
        except Exception:  # noqa: BLE001, S110 - a broken reference fails its tests, where it is used
            pass


def _limits_resolver(options: GradeOptions) -> Callable[[ExerciseSpec], Limits]:
    def limits_for(spec: ExerciseSpec) -> Limits:
        limits = spec.limits
        if options.timeout_s is not None:
            limits = replace(limits, timeout_s=options.timeout_s)
        if options.memory_mb is not None:
            limits = replace(limits, memory_mb=options.memory_mb)
        return limits
    return limits_for
