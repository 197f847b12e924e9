"""What the zygote warms before it forks a submission's rooms.

An exercise's ``needs`` (``torch.optim``: ~1 s on first use) are warmed for
every room that may serve it. A course's declared libraries (matplotlib:
~0.5 s to import) are warmed only for a submission whose sources mention
them: the others would pay for an import they never make. A submission that
reaches a library without naming it (``__import__`` of a built string) still
runs: its room imports the library itself, on its own time (a library's own
imports are never read as the student's change to the sandbox: tripwires).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence

from grader.course.catalogue import Course, ExerciseSpec
from grader.course.submissions import Submission

# Words in a source that mean a library may be imported (pylab is matplotlib's).
_MENTIONS = {"matplotlib": (b"matplotlib", b"pylab")}


def needed_features(exercises: Iterable[ExerciseSpec]) -> tuple[str, ...]:
    """The zygote features (``limits.WARMABLE``) any of these exercises needs."""
    return tuple(sorted({feature for spec in exercises for feature in spec.needs}))


def mentioned_libraries(course: Course, submission: Submission, exercises: Sequence[ExerciseSpec]) -> tuple[str, ...]:
    """The course's warmable libraries that the submission's sources (its
    exercises' modules and its helpers) name."""
    if not course.warm_libraries:
        return ()
    sources = _sources(submission, exercises)
    return tuple(library for library in course.warm_libraries
                 if any(word in source for source in sources for word in _MENTIONS.get(library, (library.encode(),))))


def warm_features(course: Course, submission: Submission, exercises: Sequence[ExerciseSpec]) -> tuple[str, ...]:
    """Everything a room of this submission should find warm."""
    return tuple(sorted({*needed_features(exercises), *mentioned_libraries(course, submission, exercises)}))


def _sources(submission: Submission, exercises: Sequence[ExerciseSpec]) -> list[bytes]:
    sources: list[bytes] = []
    try:
        sources += submission.helper_sources().values()
    except OSError:
        pass  # unreadable: its room says so
    for spec in exercises:
        try:
            module = submission.module_source(spec.filename)
        except Exception:  # noqa: BLE001 - a file that cannot become a module fails in its room, not here
            module = None
        if module is not None:
            sources.append(module)
    return sources
