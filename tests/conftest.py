"""Shared fixtures: the real course, and one zygote for the whole test session."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader.sandbox.client import Zygote

REPO = Path(__file__).resolve().parent.parent

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
