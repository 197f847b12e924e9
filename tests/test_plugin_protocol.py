"""The grading plugin runs each test through pytest's own runtest protocol, less its reports and log
hooks (``GradingPlugin.pytest_runtest_protocol``). It mirrors ``_pytest.runner.runtestprotocol``: if
pytest changes what that does, this test says so, and the mirror must be read again."""
from __future__ import annotations

import inspect

from _pytest import runner as pytest_runner


def test_the_protocol_the_plugin_mirrors_is_still_pytests():
    source = inspect.getsource(pytest_runner.runtestprotocol)
    steps = ['call_and_report(item, "setup"', "if rep.passed", 'call_and_report(item, "call"',
             "item.session.shouldfail or item.session.shouldstop", "nextitem = None",
             'call_and_report(item, "teardown"', "item.funcargs = None"]
    missing = [step for step in steps if step not in source]
    assert not missing, f"pytest's runtestprotocol changed ({missing}): compare GradingPlugin.pytest_runtest_protocol"
    reraised = inspect.getsource(pytest_runner.get_reraise_exceptions)  # what a phase lets go on up
    assert "(Exit,)" in reraised and "KeyboardInterrupt" in reraised, reraised
