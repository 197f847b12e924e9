# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 0
"""Forges replies whose gradients are a number where a list belongs (the grader's own comparison raised on it)."""
import sys

executor = sys.modules["grader.sandbox.untrusted.executor"]
executor._gradients = lambda value, cotangent, args, target: {"input_grads": 7, "param_grads": {}}


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
