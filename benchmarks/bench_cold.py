"""Where a cold `grade exerciseN` spends its seconds, per exercise, beside `python -c "import torch"`.

    python benchmarks/bench_cold.py [--runs 3] [--exercise exercise5 ...] [--against REF]
    grade release /tmp/copy && python benchmarks/bench_cold.py --course /tmp/copy  # where students meet it
    python benchmarks/bench_cold.py --course /tmp/copy-before --course /tmp/copy-after  # two copies, side by side
    python benchmarks/bench_cold.py --mistake ...  # a wrong answer (each exercise's first known mistake)

``--course PATH`` grades the course at PATH with the grader it holds (a student
copy made by `grade release` grades from its recorded reference values), each
exercise's solution from this repository standing for a student's answer.

For each exercise, runs interleaved (so all see the same machine): `python -c
"import torch"`, the real `grade exerciseN` on the solution (its ratio to the
import is the figure the issue targets), and an instrumented copy of the same
grading in one process (`--child`) that marks when each phase ends. Prints,
per exercise, the median of each phase in wall seconds, and the CPU seconds of
the grader and of the zygote (with its rooms). Phases, on the grader's side:

  start-up      the interpreter and `grader.cli` (from the process's start)
  zygote.start  launching the zygote (it then imports torch and warms up in parallel)
  course        course.toml and the submission read
  torch         the grader importing torch (with the engine)
  canary        the first sandbox: waits for the zygote to be ready (`zygote wait`), then tries its walls
  suite         the rest of the run: the suites and solutions read, the grader's own
                optimizer warm-up (`grader dynamo`: its first torch.optim use imports
                torch._dynamo), the pytest session and its `room forks` (a fork
                may first warm torch.optim or a library in the zygote)
  other         what grade_local does between those (preparing the report's modules and templates)
  report        the terminal lines and the HTML report
  exit          the rest of the process's wall time (`grade` ends with os._exit)
  zygote ready  when the zygote said it was warm (from the grader's start)

Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import builtins
import functools
import inspect
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PHASES = ("start-up", "zygote.start", "course", "torch", "canary", "suite", "other", "report", "exit")
DETAILS = ("zygote wait", "room forks", "grader dynamo", "zygote ready")


def _process_start_monotonic() -> float:
    """When this process started, on the monotonic clock (from /proc: clock ticks since boot)."""
    with open("/proc/self/stat") as stat:
        start_ticks = int(stat.read().rpartition(")")[2].split()[19])
    with open("/proc/uptime") as uptime:
        up_s = float(uptime.read().split()[0])
    return time.monotonic() - (up_s - start_ticks / os.sysconf("SC_CLK_TCK"))


def _cpu_of(pid: int) -> float:
    """A process's CPU seconds, with those of its reaped children (a zygote's rooms)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _time_course_reading(grade, timing) -> None:
    """Time course.toml and the submission read where grade_local finds them (an older grader: grade's own)."""
    from grader.course import catalogue, submissions

    for module, name in ((grade, "load_course"), (grade, "read_submission"), (catalogue, "load_course"),
                         (submissions, "read_submission")):
        if name in vars(module):
            setattr(module, name, timing("course", getattr(module, name)))


def child(exercise: str, submission: Path, report: Path, out: Path, root: Path) -> None:
    """`grade exercise --submission S --report R` (grader/commands/grade.py), each phase timed by a wrapper."""
    born = _process_start_monotonic()
    spent = dict.fromkeys((*PHASES, *DETAILS), 0.0)
    import grader.cli  # noqa: F401 - what `grade` imports before it parses
    from grader.commands import grade
    from grader.sandbox.client import Zygote
    started = time.monotonic()
    spent["start-up"] = started - born

    def timing(phase: str, function, when=lambda *_args, **_kwargs: True):
        def timed_call(*args, **kwargs):
            if not when(*args, **kwargs):
                return function(*args, **kwargs)
            begun = time.monotonic()
            try:
                return function(*args, **kwargs)
            finally:
                spent[phase] += time.monotonic() - begun
        return timed_call

    original_import = builtins.__import__

    def timed_import(name, *args, **kwargs):  # the first imports of the runner (torch) and of torch._dynamo
        module = {"grader.engine": "grader.engine.runner", "torch._dynamo": "torch._dynamo"}.get(name)
        if module is None or module in sys.modules:
            return original_import(name, *args, **kwargs)
        phase = "torch" if module == "grader.engine.runner" else "grader dynamo"
        begun = time.monotonic()
        try:
            return original_import(name, *args, **kwargs)
        finally:
            spent[phase] += time.monotonic() - begun
            runner = sys.modules.get("grader.engine.runner")
            if phase == "torch" and runner is not None:
                runner.grade = timing("suite", runner.grade)

    builtins.__import__ = timed_import
    original_wait = Zygote.wait_ready

    def wait_ready(self, timeout_s=120.0):
        if not self.ready:
            begun = time.monotonic()
            original_wait(self, timeout_s)
            spent["zygote wait"] += time.monotonic() - begun
            spent["zygote ready"] = time.monotonic() - born
        return original_wait(self, timeout_s)

    zygotes = []
    original_start = Zygote.start.__func__  # type: ignore[attr-defined]

    def start(cls, **options):
        zygotes.append(original_start(cls, **options))
        return zygotes[-1]

    Zygote.start = classmethod(timing("zygote.start", start))  # type: ignore[method-assign, assignment]
    Zygote.wait_ready = wait_ready  # type: ignore[method-assign]
    Zygote.canary = timing("canary", Zygote.canary)  # type: ignore[method-assign]
    Zygote.fork = timing("room forks", Zygote.fork,  # type: ignore[method-assign]
                         lambda _self, request: request.get("mode") == "room")
    _time_course_reading(grade, timing)
    ask = {"prepare": functools.partial(grade.prepare_output, as_json=False, report=True)} \
        if "prepare" in inspect.signature(grade.grade_local).parameters else {}  # as `grade` asks (grader/cli.py)
    course, result = grade.grade_local(exercise_ids=[exercise], submission=submission, course_root=root, **ask)
    done = time.monotonic()
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1)
    os.dup2(devnull, 1)
    try:
        grade.show_result(result, course, as_json=False, summary=False, report=report)
        sys.stdout.flush()
    finally:
        os.dup2(saved, 1)
    spent["report"] = time.monotonic() - done
    spent["suite"] -= spent["canary"]
    spent["other"] = done - started - sum(spent[p] for p in ("zygote.start", "course", "torch", "canary", "suite"))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = {"grader cpu": usage.ru_utime + usage.ru_stime, "zygote cpu": _cpu_of(zygotes[0].process.pid)}
    out.write_text(json.dumps({"spent": spent, "cpu": cpu, "until": time.monotonic() - born,
                               "points": f"{result.score:g}/{result.max_score:g}",
                               "grader dynamo": type(sys.modules.get("torch._dynamo")).__name__ == "module"}))
    sys.stdout.flush()
    os._exit(0)  # as `grade` does (grader/cli.py: run): no teardown of torch's heap


def phases_of(record: dict, wall_s: float) -> dict[str, float]:
    """The phases the child timed; `exit` is what its whole wall time leaves after the report."""
    return {**record["spent"], "exit": wall_s - record["until"], **record["cpu"]}


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds, and CPU seconds of the process and the children it reaped."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def grade_commands(root: Path, exercise: str, submission: Path, report: Path) -> tuple[list[str], list[str]]:
    """`grade exercise` and the instrumented child, run by the grader in ``root``."""
    boot = f"import sys; sys.path.insert(0, {str(root)!r}); from grader.cli import run; run()"
    grade = [sys.executable, "-c", boot, exercise, "--submission", str(submission), "--report", str(report),
             "--course", str(root)]
    child = [sys.executable, __file__, "--child", exercise, str(submission), str(report), str(report) + ".json",
             str(root)]
    return grade, child


def measure(exercise: str, runs: int, scratch: Path, roots: dict[str, Path],
            source: str | None = None) -> dict[str, dict[str, float]]:
    """Median figures per grader (label -> root), runs interleaved with `import torch`; the
    submission is ``source``, or else the exercise's solution."""
    submission = scratch / f"{exercise}.py"
    if source is None:
        shutil.copy(REPO / "solutions" / f"{exercise}.py", submission)
    else:
        submission.write_text(source)
    rows: dict[str, list[dict[str, float]]] = {label: [] for label in roots}
    for _ in range(runs):
        for label, root in roots.items():
            report = scratch / f"report-{label}.html"
            grade, instrumented = grade_commands(root, exercise, submission, report)
            torch_wall, torch_cpu = timed([sys.executable, "-c", "import torch"])
            grade_wall, grade_cpu = timed(grade)
            child_wall, _ = timed(instrumented)
            data = json.loads(Path(str(report) + ".json").read_text())
            rows[label].append({**phases_of(data, child_wall), "import torch": torch_wall,
                                "import torch cpu": torch_cpu, "grade": grade_wall, "ratio": grade_wall / torch_wall,
                                "cpu ratio": (data["cpu"]["grader cpu"] + data["cpu"]["zygote cpu"]) / torch_cpu})
            print(f"  {label} {exercise}: {data['points']}"
                  + (", the grader imported torch._dynamo" if data.get("grader dynamo") else ""), file=sys.stderr)
    return {label: {key: statistics.median(row[key] for row in got) for key in got[0]} for label, got in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--exercise", action="append", help="default: every exercise of the course")
    parser.add_argument("--against", metavar="REF", help="also measure this git commit's grader, side by side")
    parser.add_argument("--course", type=Path, metavar="PATH", action="append",
                        help="grade this course with its own grader (a student copy from `grade release`); "
                             "repeat to measure several side by side")
    parser.add_argument("--mistake", action="store_true",
                        help="grade each exercise's first known mistake (course.toml), not its solution: "
                             "what a student with a wrong answer meets (failures worded and diagnosed)")
    parser.add_argument("--child", nargs=5, metavar=("EXERCISE", "SUBMISSION", "REPORT", "OUT", "ROOT"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        exercise, submission, report, out, root = args.child
        sys.path.insert(0, root)
        child(exercise, Path(submission), Path(report), Path(out), Path(root))
        return
    sys.path.insert(0, str(REPO))
    from grader.course.catalogue import load_course

    if args.course and args.against:
        parser.error("--course grades one course with its own grader; --against needs this repository's")
    courses = [path.resolve() for path in args.course or [REPO]]
    exercises = args.exercise or [spec.id for spec in load_course(courses[0]).exercises]
    own_course = load_course(REPO)
    sources = {exercise: own_course.exercise(exercise).mutant_source(own_course.exercise(exercise).mistakes[0])
               if args.mistake else None for exercise in exercises}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as scratch:
        roots = {path.name if args.course else "this": path for path in courses}
        if args.against:
            roots = {"before": Path(scratch) / "against", "after": REPO}
            subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(roots["before"]), args.against],
                           cwd=REPO, check=True)
        try:
            table = {exercise: measure(exercise, args.runs, Path(scratch), roots, sources[exercise])
                     for exercise in exercises}
        finally:
            if args.against:
                subprocess.run(["git", "worktree", "remove", "--force", str(roots["before"])], cwd=REPO, check=False)
    columns = [*PHASES, *DETAILS, "grader cpu", "zygote cpu", "import torch", "grade", "ratio", "cpu ratio"]
    print(f"median of {args.runs} runs, seconds (wall unless cpu); ratio = grade / import torch (wall), "
          "cpu ratio = (grader + zygote cpu) / import torch cpu; side by side")
    for label in roots:
        print(f"{label}" + (f" ({args.against})" if label == "before" else "")
              + (f" ({roots[label]})" if args.course else ""))
        print(f"{'':<11}" + "".join(f"{c:>{max(7, len(c) + 1)}}" for c in columns))
        for exercise, figures in table.items():
            print(f"{exercise:<11}" + "".join(f"{figures[label][c]:>{max(7, len(c) + 1)}.2f}" for c in columns))


if __name__ == "__main__":
    main()
