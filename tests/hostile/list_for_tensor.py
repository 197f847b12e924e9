# expect-verdict: sandbox error
# expect-message: malformed answer
# expect-points: 0
"""Forges replies whose first gradient is a list of numbers where a tensor belongs."""
import sys

executor = sys.modules["grader.sandbox.untrusted.executor"]
_real = executor._gradients


def _forged(value, cotangent, args, target):
    reply = _real(value, cotangent, args, target)
    reply["input_grads"][0] = reply["input_grads"][0].tolist()
    return reply


executor._gradients = _forged


def model(x, w, b):
    return w * x + b


def loss_fn(y_hat, y):
    return ((y_hat - y) ** 2).mean()
