"""A batch worker: a fresh interpreter grading its share of a class in one session.

Started by the controller as ``python -I -c BOOT GRADER_PARENT`` (``-I``: it
must not import a student's ``torch.py`` from the working directory, nor obey
``PYTHON*`` variables; the grader's own folder is put back on the path). Like
pytest-xdist's ``remote.py``, it imports nothing of its controller: only the
sandbox client, the runner, the course, and the class book that writes a
submission's files. Plain data crosses, both ways:

- stdin, once: the job, one JSON object: ``course`` (its folder), ``out``,
  ``exercises`` (ids), ``write_files`` (false when grading some of the
  course's exercises: the controller writes those files from its record),
  ``options`` (``GradeOptions`` fields) and ``entries`` (``Entry.job``:
  ``{"name", "path", "refused", "notes"}``) in the order to grade them;
- stdout, one JSON line per event: ``{"event": "reading", "submission": name}``
  before each entry is read, ``{"event": "grading"}`` once all are,
  ``{"event": "graded", "submission": name, "result": {...}, ...}`` (the whole
  result, as plain data, for the class record the controller keeps) the moment
  ``OUT/submissions/<name>/`` is written, or ``{"event": "error", "message": ...}``
  when the batch cannot run at all (a broken suite).

It starts its zygote first (it warms up while this process imports torch and
the suites), reads its share one entry at a time through the one boundary
(``read_submission``: a bad entry is that entry's refusal, never the share's
end; "reading" tells the controller which entry to blame if the process dies
anyway), then runs ONE ``runner.grade`` session over its share. SIGTERM
(the controller stopping the batch) closes the zygote on the way out; if the
controller dies outright, the worker gets SIGTERM too (Linux).
"""
from __future__ import annotations

import ctypes
import io
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from grader.record.classbook import write_submission
from grader.course.catalogue import Course, CourseError, ExerciseSpec, load_course
from grader.course.submissions import Submission, read_submission
from grader.course.warming import needed_features
from grader.errors import EXIT_INTERRUPTED, GraderFailure
from grader.options import GradeOptions
from grader.results import SubmissionResult, to_plain
from grader.status import combined_status
from grader.engine.session import GradingSession
from grader.sandbox.client import ZygoteLost

if TYPE_CHECKING:
    from grader.engine.subjects import ReferenceSource

# The whole of the worker's start: what follows ``-c``. It names this module
# and nothing else of the grader.
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); "
        "from grader.commands.batch.worker import main; raise SystemExit(main())")


def main() -> int:
    """Read a job (JSON on stdin), grade it, write OUT/<name>/, report lines on stdout."""
    protocol = _claim_stdout()
    _die_with_parent()
    signal.signal(signal.SIGTERM, _interrupt)  # the parent stops us: close the zygote on the way out

    session = GradingSession.start()  # first: it warms up while this process imports torch and the suites
    unpacked = Path(tempfile.mkdtemp(prefix="torchgrade-batch-"))
    try:
        job = json.loads(sys.stdin.read())  # at once: the parent waits on the pipe before starting the next worker
        try:
            course = load_course(Path(job["course"]))
            specs = [course.exercise(i) for i in job["exercises"]]
            session.zygote.warm(needed_features(specs))  # torch._dynamo: warmed before it is ready, beside our imports
            filenames = [s.filename for s in specs]
            out = Path(job["out"])
            submissions = []
            for number, entry in enumerate(job["entries"]):
                _send(protocol, {"event": "reading", "submission": entry["name"]})
                submissions.append(read_entry(entry, filenames, unpacked / str(number)))
            _send(protocol, {"event": "grading"})

            not_written = set(job.get("not_written", ()))

            def graded(result: SubmissionResult, event: dict[str, Any]) -> None:
                if job.get("write_files", True) and result.submission not in not_written:  # else the controller
                    write_submission(out, result, course.hidden_visibility, course_title=course.title)
                _send(protocol, event)

            grade_share(session, course, specs, submissions, job["options"], on_graded=graded,
                        expected_files=job.get("course_files"), stopping=_stopping.is_set)
        except ZygoteLost as error:  # its sandboxes are gone mid-share: the controller retries what is left
            print(f"torchgrade batch worker: {error}", file=sys.stderr)
            return error.exit_status
        except (GraderFailure, CourseError) as error:  # the batch cannot run at all: say why, once
            _send(protocol, {"event": "error", "message": str(error)})
            return error.exit_status
        return 0
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    finally:
        session.close()
        shutil.rmtree(unpacked, ignore_errors=True)


def grade_share(session: GradingSession, course: Course, specs: Sequence[ExerciseSpec],
                submissions: Sequence[Submission], options: dict[str, Any], *,
                on_graded: Callable[[SubmissionResult, dict[str, Any]], None], expected_files: Mapping[str, str] | None,
                references: ReferenceSource | None = None, stopping: Callable[[], bool] = lambda: False) -> None:
    """Grade a share of a class in ONE session, the body every batch worker runs (local or Dask):
    each finished submission goes to ``on_graded`` with its ``graded`` event (the runner already
    says on every exercise why a refused entry was not graded). ``options``: ``GradeOptions``'
    fields as the job carries them. Once ``stopping()``, a session cut short may finish a
    submission with tests missing: not a result, so not passed on. Raises what ``runner.grade``
    raises."""

    def finished(result: SubmissionResult) -> None:
        if not stopping():
            on_graded(result, graded_event(result))

    session.grade(course, submissions, specs, options=GradeOptions.from_plain(options), on_result=finished,
                  keep_results=False, expected_files=expected_files, references=references)


def _claim_stdout() -> io.TextIOWrapper:
    """Keep stdout for the protocol: anything else printing to fd 1 (a library,
    a warning) goes to stderr instead of into the parent's JSON stream."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def _send(protocol: io.TextIOWrapper, event: dict[str, Any]) -> None:
    protocol.write(json.dumps(event) + "\n")
    protocol.flush()


def _die_with_parent() -> None:
    """If the parent is killed outright, its workers must not grade on unseen."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(EXIT_INTERRUPTED)


_stopping = threading.Event()


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    _stopping.set()
    raise KeyboardInterrupt


def read_entry(entry: dict[str, Any], exercise_filenames: list[str], unpack_to: Path) -> Submission:
    """One entry of a job (``Entry.job``) as a submission, through the boundary (never raises)."""
    return read_submission(Path(entry["path"]), exercise_filenames, name=entry["name"], unpack_to=unpack_to,
                           refused=entry.get("refused"), notes=entry.get("notes") or ())


def graded_event(result: SubmissionResult) -> dict[str, Any]:
    """What a worker says about a finished submission: plain data, the whole
    result included (the controller stores it in the class record as it is)."""
    verdicts = sorted({t.verdict for e in result.exercises for t in e.tests if t.verdict})
    status, _ = combined_status((e.status, e.reason) for e in result.exercises)
    return {"event": "graded", "submission": result.submission, "score": result.score,
            "max_score": result.max_score, "verdicts": verdicts, "status": status.value,
            "result": to_plain(result)}


if __name__ == "__main__":
    sys.exit(main())
