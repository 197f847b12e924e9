"""Gradescope: the autograder package, and the entry that grades one submission there.

``build_package`` writes the zip an instructor uploads to a Gradescope
programming assignment. Gradescope unpacks it into ``/autograder/source``,
runs ``setup.sh`` once to build its image, then ``run_autograder`` for every
submission, which calls ``python -m grader.commands.gradescope run --root /autograder``.

The entry grades ``/autograder/submission`` (loose ``exerciseN.py`` files, a
folder, a zip, or notebooks) with the same engine, sandbox and limits as
``grade batch``, and writes ``/autograder/results/results.json`` in
Gradescope's schema (``grader.outputs.results_json``). It never ends without writing
that file: any failure of the grader itself becomes a complete results.json
with score 0 that says what happened, in plain words for the student and with
the traceback in a test only instructors see. ``run_autograder`` adds a last
guard in bash, for an interpreter that cannot even start.

Only the standard library is imported at module level, so a broken install
still reaches the code that reports it.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shlex
import signal
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from grader.errors import Failure, UserError  # imports nothing itself: the rule above holds

if TYPE_CHECKING:  # the module imports only the standard library at run time
    from grader.course.catalogue import Course
    from grader.course.submissions import Submission

TORCH_FALLBACK_VERSION = "2.13.0"  # the torch the course is tested with, when no torch is installed here
TORCH_INDEX_URL = "https://download.pytorch.org/whl/cpu"  # the CPU build: no multi-GB CUDA wheels
SUBMISSION_NAME = "submission"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: the same bytes on every build
_EXECUTABLES = ("setup.sh", "run_autograder")
_SKIPPED_NAMES = {"__pycache__"}

SETUP_SH_TEMPLATE = """#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image:
# Python 3 with venv, the pinned CPU build of torch, then this grader from the
# copy unpacked into /autograder/source. Nothing else.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update
# libseccomp2: the sandbox's system-call filter (pyseccomp loads it).
apt-get install -y --no-install-recommends python3 python3-venv libseccomp2
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --no-cache-dir --upgrade pip
/autograder/venv/bin/pip install --no-cache-dir torch=={torch_version} --index-url {index_url}
/autograder/venv/bin/pip install --no-cache-dir /autograder/source
"""
# The course's [course] requirements: packages its exercises may import.
REQUIREMENTS_LINE = "/autograder/venv/bin/pip install --no-cache-dir {requirements}\n"


def torch_version() -> str:
    """The version of torch installed where the package is built (the one the
    course was checked with), without its local tag: ``2.13.0+cpu`` → ``2.13.0``."""
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("torch").split("+")[0]
    except PackageNotFoundError:
        return TORCH_FALLBACK_VERSION


def setup_script(torch_version: str, requirements: Sequence[str] = ()) -> str:
    """setup.sh, with torch pinned to ``torch_version``'s CPU build, then the course's ``requirements``."""
    script = SETUP_SH_TEMPLATE.format(torch_version=torch_version, index_url=TORCH_INDEX_URL)
    if requirements:
        script += REQUIREMENTS_LINE.format(requirements=" ".join(shlex.quote(r) for r in requirements))
    return script


# The JSON the bash guard writes is fixed text: it must not depend on Python.
_STARTUP_FAILURE = json.dumps({
    "score": 0.0,
    "execution_time": 0,
    "output": "The autograder stopped before it could grade your submission (exit status STATUS). "
              "This is not your score: tell your instructor.",
    "output_format": "text",
    "stdout_visibility": "hidden",
    "tests": [{"name": "The autograder", "number": "0", "score": 0.0, "max_score": 0.0, "status": "failed",
               "output": "The autograder stopped before it could write any results (exit status STATUS): its "
                         "Python environment may be missing, or it ran out of memory. This is not your score.",
               "visibility": "visible"}],
})

RUN_AUTOGRADER = f"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission with
# the same engine, sandbox and limits as `grade batch`, and write
# /autograder/results/results.json. The Python entry writes that file whatever
# happens to the grading; the lines after it cover an interpreter that could
# not start at all (or was killed), so Gradescope always gets a results.json.
# TORCHGRADE_AUTOGRADER_ROOT and _PYTHON exist for the grader's own tests.
ROOT="${{TORCHGRADE_AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{TORCHGRADE_AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}}"
RESULTS="$ROOT/results/results.json"
cd "$ROOT/source" 2>/dev/null || cd "$ROOT"
status=0
"$PYTHON" -m grader.commands.gradescope run --root "$ROOT" || status=$?
if [ ! -s "$RESULTS" ]; then
    mkdir -p "$ROOT/results"
    cat > "$RESULTS" <<'JSON'
{_STARTUP_FAILURE}
JSON
    sed -i "s/STATUS/$status/g" "$RESULTS"
    echo "run_autograder: the grader exited with status $status without writing $RESULTS" >&2
fi
exit 0
"""


class PackageError(UserError):
    """The autograder package cannot be built (a user-facing error)."""


@dataclass(frozen=True)
class Package:
    path: Path
    files: tuple[str, ...]  # names inside the zip, sorted


# ---------------------------------------------------------------------------
# The package
# ---------------------------------------------------------------------------
def package_files(course: Course) -> dict[str, Path]:
    """What the zip holds, by name inside it: the course (course.toml, its
    student files, every stub, solution and hidden suite it declares, its recordings), the grader
    package and the project files pip needs to install it. Not the grader's
    own tests or benchmarks."""
    import grader  # noqa: PLC0415

    package_dir = Path(grader.__file__).resolve().parent
    files = _grader_files(package_dir.parent, package_dir)
    for path in _declared(course):
        name = _name_in_course(path, course.root)
        if name in files and files[name].resolve() != path.resolve() and not _course_may_replace(name):
            raise PackageError(f"the course's {name} would replace the grader's own {name} in the package: "
                               "rename it in the course")
        files[name] = path
    return files


def _grader_files(project: Path, package_dir: Path) -> dict[str, Path]:
    """The grader package and the project files pip builds it from, by name inside the zip."""
    files: dict[str, Path] = {}
    for name in ("pyproject.toml", "README.md"):  # pip builds the package from these
        if not (project / name).is_file():
            raise PackageError(f"{project / name} not found: build the autograder from a source checkout of "
                               "the grader (with its pyproject.toml), not from an installed copy")
        files[name] = project / name
    for path in _tree(package_dir):
        files[path.relative_to(project).as_posix()] = path
    return files


def _declared(course: Course) -> list[Path]:
    """What the course declares: course.toml, its student files, every stub and hidden suite, and the
    solutions, or the recordings that stand for them."""
    root = course.root
    declared = [root / "course.toml", *(root / path for path in course.student_files)]  # course.toml names them
    for spec in course.exercises:
        declared += [spec.stub, spec.suite]
        if course.recordings is None:
            declared.append(spec.solution)
    if course.recordings is not None:
        declared += _tree(course.recordings)
    return declared


def _name_in_course(path: Path, root: Path) -> str:
    """A declared file's name inside the zip: its path in the course folder, which it must exist in."""
    if not path.is_file():
        raise PackageError(f"{path} is declared in {root / 'course.toml'} but does not exist")
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        raise PackageError(f"{path} lies outside the course folder {root}; the package holds only "
                           "what is inside it") from None


def _course_may_replace(name: str) -> bool:
    # A hidden suite of the grader's own course, or a README (pip needs one, whatever it says).
    return name == "README.md"


def _tree(folder: Path) -> list[Path]:
    """Every file under ``folder`` but caches and hidden files (``.mypy_cache/``, editor swap files)."""
    def wanted(path: Path) -> bool:
        parts = path.relative_to(folder).parts
        return (path.is_file() and path.suffix != ".pyc" and not _SKIPPED_NAMES.intersection(parts)
                and not any(part.startswith(".") for part in parts))
    return sorted(p for p in folder.rglob("*") if wanted(p))


def build_package(course: Course, out: Path) -> Package:
    """Write the Gradescope autograder zip for ``course`` to ``out``:
    ``setup.sh`` and ``run_autograder`` at its root beside the course and the
    grader. The same course gives the same bytes (sorted names, fixed times
    and permissions)."""
    if out.suffix.lower() != ".zip":
        raise PackageError(f"{out} must end in .zip: Gradescope takes the autograder as a zip file")
    contents: dict[str, bytes] = {name: path.read_bytes() for name, path in package_files(course).items()}
    if not course.is_student_copy:  # a student copy's recordings answer its public seed only
        contents["course.toml"] = with_grading_seed(contents["course.toml"].decode("utf-8"),
                                                    package_grading_seed(course)).encode()
    contents["setup.sh"] = setup_script(torch_version(), course.requirements).encode()
    contents["run_autograder"] = RUN_AUTOGRADER.encode()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp_name, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in sorted(contents):
                info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
                info.create_system = 3  # Unix: the permissions below are honoured when unpacked
                mode = 0o755 if name in _EXECUTABLES else 0o644
                info.external_attr = (stat.S_IFREG | mode) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, contents[name], compresslevel=9)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Package(path=out, files=tuple(sorted(contents)))


def package_grading_seed(course: Course) -> int:
    """The seed the package grades at: the course's ``grading_seed``, else one
    derived from what a student copy never holds (the solutions and the hidden
    suites), so the same course gives the same package and no student can
    compute it. A new seed: declare ``grading_seed`` in course.toml."""
    if course.grading_seed is not None:
        return course.grading_seed
    digest = hashlib.sha256(b"torchgrade grading seed\0")
    for spec in course.exercises:
        for path in (spec.solution, spec.suite):
            data = path.read_bytes()
            digest.update(len(data).to_bytes(8, "big") + data)
    return int.from_bytes(digest.digest()[:8], "big") >> 2


_COURSE_TABLE = re.compile(r"^[ \t]*\[course\][ \t]*(?:#.*)?$", re.MULTILINE)


def with_grading_seed(course_toml: str, seed: int) -> str:
    """course.toml with ``grading_seed = seed`` in its [course] table (unless it declares one)."""
    if re.search(r"^[ \t]*grading_seed[ \t]*=", course_toml, re.MULTILINE):
        return course_toml
    line = f"grading_seed = {seed}  # written by `grade gradescope`: instructor grading's inputs\n"
    table = _COURSE_TABLE.search(course_toml)
    if table is None:
        return course_toml.rstrip("\n") + "\n\n[course]\n" + line
    end = table.end() + 1
    return course_toml[:end] + line + course_toml[end:]


# ---------------------------------------------------------------------------
# Grading one submission on Gradescope
# ---------------------------------------------------------------------------
def find_submission(folder: Path, exercise_filenames: Sequence[str], *, unpack_to: Path) -> Submission:
    """The student's upload as a ``Submission``: the files in ``folder`` (loose
    ``exerciseN.py`` files or notebooks), else the one folder or ``.zip`` it
    holds. Anything else is a submission with a problem in plain words."""
    from grader.course import notebooks  # noqa: PLC0415
    from grader.course.archives import JUNK_FOLDERS  # noqa: PLC0415
    from grader.course.submissions import read_submission  # noqa: PLC0415

    def holds_answers(path: Path) -> bool:
        return any((path / f).is_file() for f in exercise_filenames) or any(
            notebooks.is_notebook(p) for p in path.glob("*.ipynb"))

    if folder.is_dir() and not holds_answers(folder):
        entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in JUNK_FOLDERS]
        if len(entries) == 1 and (entries[0].is_dir() or entries[0].suffix.lower() == ".zip") \
                and not entries[0].is_symlink():
            return read_submission(entries[0], exercise_filenames, name=SUBMISSION_NAME, unpack_to=unpack_to)
    return read_submission(folder, exercise_filenames, name=SUBMISSION_NAME, unpack_to=unpack_to)


def grade_root(root: Path, *, course_root: Path | None = None) -> dict[str, Any]:
    """Grade ``root/submission`` against the course in ``root/source`` (or
    ``course_root``) and return Gradescope's results as a dict."""
    from grader.engine.session import GradingSession  # noqa: PLC0415

    unpacked = Path(tempfile.mkdtemp(prefix="torchgrade-autograder-"))
    try:
        with GradingSession.start(many_rooms=False, wait_on_close=False) as session:
            from grader.course.catalogue import load_course  # noqa: PLC0415
            from grader.options import GradeOptions  # noqa: PLC0415
            from grader.outputs.results_json import to_gradescope  # noqa: PLC0415

            course = load_course(course_root or root / "source")
            specs = list(course.exercises)
            submission = find_submission(root / "submission", [s.filename for s in specs],
                                         unpack_to=unpacked / "zip")
            # The package's grading seed (build_package wrote it): none of a student copy's answers hold there.
            seed = None if course.is_student_copy else course.grading_seed
            run = session.grade(course, [submission], specs, options=GradeOptions(seed=seed))
            return to_gradescope(run.results[0], hidden_visibility=course.hidden_visibility)
    finally:
        import shutil  # noqa: PLC0415

        shutil.rmtree(unpacked, ignore_errors=True)


def failure_results(error: BaseException, *, elapsed_s: float) -> dict[str, Any]:
    """A complete results.json for a grader that failed: score 0, what happened
    in plain words for the student, the traceback for instructors only."""
    what = describe_failure(error)
    details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    output = (f"The autograder itself failed, so your submission was not graded: {what}. This is not your "
              "score and not your fault: tell your instructor, who can see the details.")
    return {
        "score": 0.0,
        "execution_time": round(elapsed_s, 3),
        "output": output,
        "output_format": "text",
        "stdout_visibility": "hidden",
        "tests": [
            {"name": "The autograder", "number": "0", "score": 0.0, "max_score": 0.0, "status": "failed",
             "output": output, "visibility": "visible"},
            {"name": "What went wrong (instructors only)", "number": "0.1", "score": 0.0, "max_score": 0.0,
             "status": "failed", "output": details[-20000:], "visibility": "hidden"},
        ],
    }


def describe_failure(error: BaseException) -> str:
    """A failure of the grader in a few plain words, without its internals
    (a hidden suite's source must not reach a student)."""
    first = (str(error).strip().splitlines() or [""])[0][:300].rstrip(":")
    failure = getattr(error, "failure", None)  # a value every error of the grader's own kinds carries
    if failure is Failure.COURSE:
        return f"the course it was built from is broken ({first})"
    if failure is Failure.SANDBOX_START:
        return "the sandbox that runs submissions could not start on this machine"
    if failure is Failure.SANDBOX_LOST:
        return "the sandbox that runs submissions stopped while grading (often: the machine ran out of memory)"
    if failure is Failure.GRADER:
        return f"the grader could not run ({first})"
    if isinstance(error, ImportError):
        return f"its Python environment is incomplete ({first}); setup.sh may have failed"
    if isinstance(error, MemoryError):
        return "it ran out of memory"
    if isinstance(error, KeyboardInterrupt):
        return "it was stopped before it finished"
    return f"an unexpected error inside the grader ({type(error).__name__})"


def write_results(path: Path, data: dict[str, Any]) -> None:
    """Write results.json whole or not at all (``write_atomic``: a temporary file of its own, then a rename)."""
    from grader.outputs.files import write_atomic  # noqa: PLC0415 - the standard library only at module level

    write_atomic(path, json.dumps(data, indent=1) + "\n")


def _stop(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(root: Path, *, course_root: Path | None = None) -> int:
    """Grade and write ``root/results/results.json``, whatever happens."""
    started = time.monotonic()
    results = root / "results" / "results.json"
    try:
        signal.signal(signal.SIGTERM, _stop)
        data = grade_root(root, course_root=course_root)
        data["execution_time"] = round(time.monotonic() - started, 3)
        print(data["output"])
    except BaseException as error:  # noqa: BLE001 - every failure must still end in a results.json
        traceback.print_exc()
        data = failure_results(error, elapsed_s=time.monotonic() - started)
    try:
        write_results(results, data)
    except OSError as error:
        print(f"grader.commands.gradescope: could not write {results}: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {results}: {data['score']:g} points.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.commands.gradescope",
                                     description="Grade a Gradescope submission into results/results.json.")
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="grade ROOT/submission, write ROOT/results/results.json")
    run_parser.add_argument("--root", type=Path, default=Path("/autograder"),
                            help="Gradescope's folder (default: /autograder)")
    run_parser.add_argument("--course", type=Path, default=None,
                            help="the course folder (default: ROOT/source)")
    args = parser.parse_args(argv)
    return run(args.root, course_root=args.course)


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # like the `grade` script: no module-by-module teardown of torch's heap
