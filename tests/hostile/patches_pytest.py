# expect-message: differs from the expected values
# expect-points: 3
"""Patches pytest's approx, its runner and its outcome objects, with a wrong model."""
import pytest
import _pytest.runner

pytest.approx = lambda *args, **kwargs: object()
_pytest.runner.call_and_report = lambda *args, **kwargs: None
pytest.fail = lambda *args, **kwargs: None


def model(x, w, b):
    return w * x + b + 1


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
