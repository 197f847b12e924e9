# expect-points: 10
"""Correct, unless it can read a secret from the grader's environment
(tests/conftest.py plants TORCHGRADE_TEST_SECRET before the zygote starts)."""
import os

leaked = any("hunter2" in value for value in os.environ.values())
try:
    leaked = leaked or "hunter2" in open(f"/proc/{os.getppid()}/environ").read()
except OSError:
    pass


def model(x, w, b):
    return w * x + b + (1 if leaked else 0)


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
