"""Shared fixtures: the real course, and one zygote for the whole test session."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.isolation import Zygote

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def zygote():
    started = Zygote.start()
    yield started
    started.close()


@pytest.fixture(scope="session")
def course():
    from grader.catalogue import load_course

    return load_course(REPO)
