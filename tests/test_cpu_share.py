"""A room's time limit is counted in its own CPU time (issue 23 §10 b): a
neighbour that spins many threads cannot push a correct exercise graded at
the same time past its limit; the spinner still gets its own time limit,
and a room that sleeps meets the wall-clock backstop."""
from __future__ import annotations

import os
import threading

import pytest

from grader.sandbox.client import Budget, Sandbox, SandboxFailure
from grader.sandbox.limits import Limits
from grader.sandbox.room_clock import cpu_seconds
from grader.verdicts import Verdict

# A correct exercise that needs 0.6 s of CPU time at import, under a limit of
# 1 s: alone it passes; sharing one core with a spinner, it takes more than
# 1 s of wall clock, which a wall-clock limit would have called a time limit.
HONEST = b"""
import time
started = time.process_time()
while time.process_time() - started < 0.6:
    pass
"""
SPINNER = b"""
import threading
import torch

def spin():
    a = torch.ones(128, 128)
    while True:
        a @ a

for _ in range(16):
    try:
        threading.Thread(target=spin, daemon=True).start()
    except RuntimeError:  # no more threads for this room: spin with those it has
        break
spin()
"""
SLEEPER = b"import time\ntime.sleep(3600)\n"
# A generous backstop: the machine running the tests is shared and busy.
LIMITS = Limits(timeout_s=1.0, wall_clock_factor=6.0, memory_mb=512)


def _load(zygote, source: bytes, name: str, outcome: dict, *, core: int | None = None, limits: Limits = LIMITS):
    room = Sandbox.open(zygote, {}, limits, Budget.for_limits(limits))
    if core is not None:  # both rooms on one core: the spinner takes what it can of it
        os.sched_setaffinity(room.pid, {core})
    return room, threading.Thread(target=_run, args=(room, source, name, limits, outcome))


def _run(room: Sandbox, source: bytes, name: str, limits: Limits, outcome: dict) -> None:
    try:
        room.load(f"{name}.py", source, Budget.for_limits(limits))
        outcome[name] = None
    except SandboxFailure as failure:
        outcome[name] = failure
    finally:
        room.close()


def test_a_correct_exercise_beside_a_thread_spinner_on_its_core_keeps_its_marks(zygote):
    core = min(os.sched_getaffinity(0))
    outcome: dict[str, SandboxFailure | None] = {}
    spinner, spinning = _load(zygote, SPINNER, "spinner", outcome, core=core)
    honest, working = _load(zygote, HONEST, "honest", outcome, core=core)
    spinning.start()
    working.start()
    working.join()
    spinning.join()
    assert outcome["honest"] is None, outcome["honest"].message
    failure = outcome["spinner"]
    assert failure is not None and failure.verdict is Verdict.TIME_LIMIT
    assert failure.message.startswith("CPU time limit exceeded while importing spinner.py"), failure.message
    assert "every thread of its sandbox counted" in failure.message


def test_a_room_that_sleeps_meets_the_wall_clock_backstop_and_is_told_so(zygote):
    outcome: dict[str, SandboxFailure | None] = {}
    limits = Limits(timeout_s=0.2, wall_clock_factor=2.0)
    _, sleeping = _load(zygote, SLEEPER, "sleeper", outcome, limits=limits)
    sleeping.start()
    sleeping.join()
    failure = outcome["sleeper"]
    assert failure is not None and failure.verdict is Verdict.TIME_LIMIT
    assert failure.message.startswith("wall-clock time limit exceeded while importing sleeper.py"), failure.message
    assert "0.4 s in all, waiting included, 2 times its CPU-time limit of 0.2 s" in failure.message


@pytest.mark.parametrize("name", [b"python3", b"a) R 1 2 3 4 5 6 7 8 9 10 999 999", b"x (y) )"])
def test_cpu_time_is_read_after_the_name_the_room_chose(name):
    ticks = os.sysconf("SC_CLK_TCK")
    stat = (b"42 (" + name + b") R 1 42 42 0 -1 4194560 100 0 0 0 "
            + f"{3 * ticks} {ticks} {ticks} 0 ".encode() + b"20 0 3 0 100 1000 10")
    assert cpu_seconds(stat) == pytest.approx(5.0)
