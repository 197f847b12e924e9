"""Shared fixtures: the real course, and one zygote for the whole test session."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from grader.sandbox.client import Zygote

REPO = Path(__file__).resolve().parent.parent

# One thread for torch's pools in the test processes, as in the zygote (sandbox.client.clean_environment):
# a process that forks rooms of its own (test_walls) must not have started an OpenMP pool first, since a
# forked child that then computes in parallel waits for threads that were not forked with it. Set before
# anything imports torch.
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The reference answers `grade exerciseN` keeps between runs (engine/answer_cache.py): a cache of the
# test session's own, never the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="torchgrade-test-cache-")

# A secret in the grader's environment: no sandbox may read it (tests/hostile/reads_environment.py).
os.environ.setdefault("TORCHGRADE_TEST_SECRET", "hunter2")


@pytest.fixture(scope="session")
def zygote():
    started = Zygote.start()
    yield started
    started.close()


@pytest.fixture(scope="session")
def course():
    from grader.course.catalogue import load_course

    return load_course(REPO)
